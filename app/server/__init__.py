"""The HTTP service (issue 6): FastAPI app, one router per feature, services without FastAPI imports."""
