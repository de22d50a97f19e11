"""The pages (issue 6): student chat at ``/``, counselor console at ``/counselor``, guide viewer at
``/sources/{doc_id}`` and their static assets under ``/static/``. Plain HTML/CSS/JS, no build step, no CDN."""

from app.web.routes import router

__all__ = ["router"]
