"""One router per feature; each is a thin layer of request/response models over a service."""
