namespace Junction.Canonical;

/// <summary>The canonical event types. docs/events.md says what each means and which providers emit it.</summary>
public static class EventTypes
{
    public const string OrderPaid = "order.paid";
    public const string OrderPending = "order.pending";
    public const string PaymentFailed = "payment.failed";
    public const string OrderRefunded = "order.refunded";
    public const string ChargebackOpened = "chargeback.opened";
    public const string ChargebackClosed = "chargeback.closed";
    public const string SubscriptionRenewed = "subscription.renewed";
    public const string SubscriptionCanceled = "subscription.canceled";
    public const string CheckoutStarted = "checkout.started";
    public const string CheckoutAbandoned = "checkout.abandoned";
    public const string OrderFulfilled = "order.fulfilled";

    public const string Optin = "optin";
    public const string Unsubscribe = "unsubscribe";
    public const string SpamComplaint = "spam_complaint";
    public const string EmailChanged = "email.changed";
    public const string TagAdded = "tag.added";
    public const string TagRemoved = "tag.removed";
    public const string AccessGranted = "access.granted";
    public const string AccessRevoked = "access.revoked";
    public const string WebinarRegistered = "webinar.registered";
    public const string WebinarAttended = "webinar.attended";
    public const string BookingCreated = "booking.created";
    public const string BookingCanceled = "booking.canceled";
    public const string BookingRescheduled = "booking.rescheduled";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        OrderPaid, OrderPending, PaymentFailed, OrderRefunded, ChargebackOpened, ChargebackClosed,
        SubscriptionRenewed, SubscriptionCanceled, CheckoutStarted, CheckoutAbandoned, OrderFulfilled,
        Optin, Unsubscribe, SpamComplaint, EmailChanged, TagAdded, TagRemoved, AccessGranted, AccessRevoked,
        WebinarRegistered, WebinarAttended, BookingCreated, BookingCanceled, BookingRescheduled,
    };
}
