from core.errors import DomainError


class WaitlistLimitReached(DomainError):
    code = "waitlist_limit_reached"
    message = "You are already on the waitlist as often as one patient may be."


class OfferClosed(DomainError):
    code = "offer_closed"
    message = "This offer is no longer open: it was accepted, declined or has expired."
