from django.http import Http404
from django.views.generic import DetailView, ListView

from . import selectors
from .models import EventPost


class EventListView(ListView):
    template_name = "events/event_list.html"
    context_object_name = "events"
    paginate_by = 20

    def get_queryset(self):
        return selectors.event_list_upcoming()


class EventDetailView(DetailView):
    template_name = "events/event_detail.html"
    context_object_name = "event"

    def get_object(self, queryset=None):
        try:
            return selectors.event_get_visible(event_id=self.kwargs["pk"])
        except EventPost.DoesNotExist as exc:
            raise Http404("No such event.") from exc
