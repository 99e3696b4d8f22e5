"""`{% shared_cache %}`: `{% cache %}` that first looks in what the view fetched together.

    {% load fragments %}
    {% shared_cache seconds home_list_events list_cache_key %}…{% end_shared_cache %}

Same arguments and the same key as `{% cache %}` (core.fragments.fragment_key), in the
default cache. When the view's `prefetched_fragments` holds the key, its value is used
(None: a miss, rendered and stored, with no second read); otherwise the fragment is read
with a GET of its own, as `{% cache %}` does.
"""

from django import template
from django.core.cache.utils import make_template_fragment_key
from django.template import TemplateSyntaxError
from django.templatetags.cache import CacheNode

from core.fragments import PREFETCHED, fragment_cache

register = template.Library()


class SharedCacheNode(CacheNode):
    def render(self, context) -> str:
        vary_on = [var.resolve(context) for var in self.vary_on]
        key = make_template_fragment_key(self.fragment_name, vary_on)
        prefetched = context.get(PREFETCHED) or {}
        value = prefetched[key] if key in prefetched else fragment_cache().get(key)
        if value is None:
            value = self.nodelist.render(context)
            fragment_cache().set(key, value, self._expire_seconds(context))
        return value

    def _expire_seconds(self, context) -> int | None:
        seconds = self.expire_time_var.resolve(context)
        if seconds is None:
            return None
        try:
            return int(seconds)
        except (TypeError, ValueError) as error:
            raise TemplateSyntaxError(
                f'"shared_cache" tag got a non-integer timeout value: {seconds!r}'
            ) from error


@register.tag("shared_cache")
def shared_cache(parser, token) -> SharedCacheNode:
    nodelist = parser.parse(("end_shared_cache",))
    parser.delete_first_token()
    tokens = token.split_contents()
    if len(tokens) < 3:
        raise TemplateSyntaxError(f"{tokens[0]!r} tag requires at least 2 arguments.")
    return SharedCacheNode(
        nodelist,
        parser.compile_filter(tokens[1]),
        tokens[2],  # the fragment's name, never a variable
        [parser.compile_filter(t) for t in tokens[3:]],
        None,  # `{% cache %}`'s default cache, which core.fragments.fragment_cache is too
    )
