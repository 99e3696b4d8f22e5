"""Static files: WhiteNoise, with a year of caching for names that carry a content hash."""

from whitenoise.middleware import WhiteNoiseMiddleware

ONE_YEAR = 365 * 24 * 60 * 60


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise sends hashed files `max-age` of ten years; HTTP caches honour at most one.

    `Cache-Control: max-age=31536000, public, immutable` for hashed names (the manifest
    storage makes them at build time); other static files keep WHITENOISE_MAX_AGE.
    """

    FOREVER = ONE_YEAR
