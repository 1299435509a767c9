"""The platform's ComponentResources, its typed settings, naming/tags and IAM helpers."""
