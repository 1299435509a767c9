"""DynamoDB: the products and inventory tables."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.data.base import AUTOSCALED_CAPACITY_PATHS, COMPONENT, DataTierBase, _Table
from components.naming import tags


class TablesMixin(DataTierBase):
    def _tables(self, key: aws.kms.Key) -> tuple[_Table, _Table]:
        products = self._table(
            "products",
            key,
            hash_key="productId",
            range_key=None,
            attributes={"productId": "S", "category": "S", "createdAt": "S", "sku": "S"},
            # Catalogue pages list a category newest first; the storefront and the inventory service resolve a SKU.
            indexes={"by-category": ("category", "createdAt"), "by-sku": ("sku", None)},
        )
        inventory = self._table(
            "inventory",
            key,
            hash_key="sku",
            range_key="locationId",
            attributes={"sku": "S", "locationId": "S"},
            # Stock per SKU per location; restocking walks a location.
            indexes={"by-location": ("locationId", "sku")},
            # Cart reservations are rows that lapse on their own when checkout never happens.
            ttl_attribute="expiresAt",
        )
        return products, inventory

    def _table(
        self,
        role: str,
        key: aws.kms.Key,
        *,
        hash_key: str,
        range_key: str | None,
        attributes: dict[str, str],
        indexes: dict[str, tuple[str, str | None]],
        ttl_attribute: str | None = None,
    ) -> _Table:
        d = self._d
        provisioned = d.dynamodb_billing_mode == "provisioned"
        capacity = d.dynamodb_min_capacity if provisioned else None
        table_name = f"{self._base}-{role}"
        table = aws.dynamodb.Table(
            f"{self._name}-{role}",
            name=table_name,
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            hash_key=hash_key,
            range_key=range_key,
            attributes=[{"name": n, "type": t} for n, t in attributes.items()],
            global_secondary_indexes=[
                {
                    "name": index,
                    "hash_key": ihash,
                    "range_key": irange,
                    "projection_type": "ALL",
                    "read_capacity": capacity,
                    "write_capacity": capacity,
                }
                for index, (ihash, irange) in indexes.items()
            ],
            read_capacity=capacity,
            write_capacity=capacity,
            point_in_time_recovery={"enabled": True, "recovery_period_in_days": d.dynamodb_pitr_days},
            server_side_encryption={"enabled": True, "kms_key_arn": key.arn},
            # Global tables (the DR region) and the analytics lake both read the stream; global tables need both
            # images.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            ttl={"enabled": True, "attribute_name": ttl_attribute} if ttl_attribute else None,
            deletion_protection_enabled=self._settings.protect_data,
            tags=tags(COMPONENT, table_name),
            # Auto scaling moves the capacity of the table and each index (`[*]`); DR replicas are TableReplicas: a
            # later `up` must reset neither (pulumi-aws `dynamodb.Table` and `dynamodb.TableReplica` docstrings).
            opts=self._stateful(
                ignore_changes=["replicas", *(AUTOSCALED_CAPACITY_PATHS if provisioned else [])]
            ),
        )
        if provisioned:
            targets = [(f"{role}", f"table/{table_name}", "table")]
            targets += [
                (f"{role}-{index}", f"table/{table_name}/index/{index}", "index") for index in indexes
            ]
            for label, resource_id, kind in targets:
                for direction in ("Read", "Write"):
                    target = aws.appautoscaling.Target(
                        f"{self._name}-{label}-{direction.lower()}",
                        service_namespace="dynamodb",
                        resource_id=resource_id,
                        scalable_dimension=f"dynamodb:{kind}:{direction}CapacityUnits",
                        min_capacity=d.dynamodb_min_capacity,
                        max_capacity=d.dynamodb_max_capacity,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
                    )
                    aws.appautoscaling.Policy(
                        f"{self._name}-{label}-{direction.lower()}",
                        policy_type="TargetTrackingScaling",
                        service_namespace=target.service_namespace,
                        resource_id=target.resource_id,
                        scalable_dimension=target.scalable_dimension,
                        target_tracking_scaling_policy_configuration={
                            "target_value": float(d.dynamodb_target_utilization),
                            "predefined_metric_specification": {
                                "predefined_metric_type": f"DynamoDB{direction}CapacityUtilization"
                            },
                        },
                        opts=self._child,
                    )
        return _Table(table.name, table.arn, table.stream_arn)

    # -- Aurora PostgreSQL -------------------------------------------------------------------------------------------
