from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter(use_regex_path=False)
router.register("webhooks/deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls
