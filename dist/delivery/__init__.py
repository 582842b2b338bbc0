"""Webhook deliveries leaving distd: the outbound request (dist.delivery.sender) and the worker that drains
the outbox (dist.delivery.worker)."""
