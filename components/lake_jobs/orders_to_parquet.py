"""Glue ETL job (Spark, Python 3): raw order events (SNS envelopes, GZIP'd JSON lines) -> curated Parquet.

Uploaded by `AnalyticsLake` to `s3://<lake>/glue/scripts/` and run by the Glue job on its schedule; not imported by
the Pulumi program. Job bookmarks (`transformation_ctx`) make each run read only the raw objects it has not seen.
The curated zone is partitioned by the event's own date (`occurredAt`), the raw zone by Firehose's arrival date.

Arguments (the job's default arguments): --RAW_PATH s3://<lake>/raw/order-events/,
--CURATED_PATH s3://<lake>/curated/order-events/.
"""

import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
from pyspark.sql import types as T

#: The order event the services publish (the SNS message body).
EVENT_SCHEMA = T.StructType(
    [
        T.StructField("eventType", T.StringType()),
        T.StructField("orderId", T.StringType()),
        T.StructField("customerId", T.StringType()),
        T.StructField("status", T.StringType()),
        T.StructField("currency", T.StringType()),
        T.StructField("totalAmount", T.DoubleType()),
        T.StructField("occurredAt", T.TimestampType()),
        T.StructField(
            "items",
            T.ArrayType(
                T.StructType(
                    [
                        T.StructField("productId", T.StringType()),
                        T.StructField("sku", T.StringType()),
                        T.StructField("quantity", T.IntegerType()),
                        T.StructField("unitPrice", T.DoubleType()),
                    ]
                )
            ),
        ),
    ]
)
#: The curated table's columns, in order (`components/lake.py` CURATED_COLUMNS; a test keeps them equal).
CURATED_COLUMNS = ("event_id", "event_type", "order_id", "customer_id", "status", "currency", "total_amount",
                   "occurred_at", "items")  # fmt: skip
PARTITION = "dt"


def main() -> None:
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "RAW_PATH", "CURATED_PATH"])
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)

    raw = glue.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [args["RAW_PATH"]], "recurse": True},
        format="json",
        transformation_ctx="raw_order_events",
    ).toDF()
    if raw.rdd.isEmpty():
        job.commit()
        return

    event = F.from_json(F.col("Message"), EVENT_SCHEMA)
    curated = (
        raw.where(F.col("Type") == "Notification")
        .withColumn("event", event)
        .select(
            F.col("MessageId").alias("event_id"),
            F.col("event.eventType").alias("event_type"),
            F.col("event.orderId").alias("order_id"),
            F.col("event.customerId").alias("customer_id"),
            F.col("event.status").alias("status"),
            F.col("event.currency").alias("currency"),
            F.col("event.totalAmount").alias("total_amount"),
            F.coalesce(F.col("event.occurredAt"), F.to_timestamp(F.col("Timestamp"))).alias("occurred_at"),
            F.expr(
                "transform(event.items, i -> named_struct('product_id', i.productId, 'sku', i.sku, "
                "'quantity', i.quantity, 'unit_price', i.unitPrice))"
            ).alias("items"),
        )
        .where(F.col("order_id").isNotNull())
        .dropDuplicates(["event_id"])
        .withColumn(PARTITION, F.date_format(F.col("occurred_at"), "yyyy-MM-dd"))
    )
    curated.select(*CURATED_COLUMNS, PARTITION).write.mode("append").partitionBy(PARTITION).parquet(
        args["CURATED_PATH"]
    )
    job.commit()


if __name__ == "__main__":
    main()
