"""The microservice catalogue and the Kubernetes objects built from it."""
