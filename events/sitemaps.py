"""/sitemap.xml: public upcoming events and approved organizations.

Only public events: school-only, members-only and unlisted events stay out of search
engines (events.permissions).
"""

from django.contrib.sitemaps import Sitemap
from django.utils import timezone

from orgs.models import Organization

from .models import EventPost


class EventSitemap(Sitemap):
    changefreq = "daily"
    limit = 5000

    def items(self):
        return (
            EventPost.objects.upcoming(now=timezone.now())
            .filter(visibility=EventPost.Visibility.PUBLIC)
            .only("pk", "updated_at")
        )

    def lastmod(self, item: EventPost):
        return item.updated_at


class OrganizationSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Organization.objects.filter(status=Organization.Status.APPROVED).only("slug")


SITEMAPS = {"events": EventSitemap, "orgs": OrganizationSitemap}
