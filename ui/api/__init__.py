"""The HTTP API: request and response models, error mapping, routes."""
