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

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        OrderPaid, OrderPending, PaymentFailed, OrderRefunded, ChargebackOpened, ChargebackClosed,
        SubscriptionRenewed, SubscriptionCanceled, CheckoutStarted, CheckoutAbandoned, OrderFulfilled,
    };
}
