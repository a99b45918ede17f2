from rest_framework.routers import SimpleRouter

from waitlist.api import views

router = SimpleRouter(use_regex_path=False)
router.register("waitlist/offers", views.WaitlistOfferViewSet, basename="waitlist-offer")
router.register("waitlist", views.WaitlistEntryViewSet, basename="waitlist-entry")

urlpatterns = router.urls
