"""The ecommerce-platform CrossGuard rules, by area. `pack.all_policies()` lists them; only
`policies/__main__.py` builds the `PolicyPack` (which starts the Analyzer gRPC server and blocks)."""
