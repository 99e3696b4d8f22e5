"""Platform pieces every app uses: API wiring and its one error body, the transactional
outbox, the campus clock, caching, rate limits, health, logging, metrics and request ids.

It imports from no app; the apps import from it. Nothing here imports Django at package
import time (gunicorn's master loads `core.logging` before Django is set up).
"""
