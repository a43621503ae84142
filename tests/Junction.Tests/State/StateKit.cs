using Junction.Canonical;
using Junction.State;

namespace Junction.Tests.State;

/// <summary>Canonical events and a policy for person-state tests, shaped as the normalizer emits them.</summary>
internal static class StateKit
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static DateTimeOffset At(double hours) => T0.AddHours(hours);

    public static readonly Policy Rules = new()
    {
        // Every provider's declared kind, as the config loader and JunctionConfig hand them to the fold.
        Ownership = Ownership.For(Junction.Providers.ProviderRegistry.Kinds),
        Tags = new HashSet<string>(StringComparer.Ordinal) { "customer", "paid:course-pro", "review-due:course-pro", "winback", "vip", "paid:coaching" },
        Products =
        [
            new ProductPolicy
            {
                Id = "course-pro",
                Match = [new ProductMatch("stripe-main", Price: "price_pro"), new ProductMatch("shop", Sku: "COURSE-PRO"), new ProductMatch("teach", Product: "crs_77")],
                TagsWhileActive = ["paid:course-pro", "customer"],
            },
            new ProductPolicy
            {
                Id = "coaching",
                Match = [new ProductMatch("stripe-main", Price: "price_coach")],
                TagsWhileActive = ["paid:coaching"],
                RevokeOn = RevokeOn.AnyRefund,
                RevokeAfter = TimeSpan.FromDays(7),
            },
        ],
        Lifecycle =
        [
            new LifecycleRule { Name = "review-due", After = EventTypes.OrderFulfilled, Delay = TimeSpan.FromDays(7), AddTag = "review-due:course-pro" },
            new LifecycleRule { Name = "winback", No = EventTypes.OrderPaid, Delay = TimeSpan.FromDays(90), AddTag = "winback" },
            new LifecycleRule { Name = "abandoned", After = EventTypes.CheckoutStarted, Unless = EventTypes.OrderPaid, Delay = TimeSpan.FromHours(2), Emit = EventTypes.CheckoutAbandoned },
        ],
    };

    private static CanonicalEvent Event(string id, string type, double hours, string source = "stripe-main", string provider = "stripe", Subject? subject = null) => new()
    {
        Id = id,
        RawId = "raw_" + id,
        Source = source,
        Provider = provider,
        Type = type,
        OccurredAt = At(hours),
        TraceId = "tr_" + id,
        Subject = subject ?? Subject.From("ada@example.com", customerId: "cus_1"),
    };

    public static OrderItem Item(string price, long amount = 4900) => new() { PriceId = price, Sku = price.ToUpperInvariant(), Amount = amount };

    public static CanonicalEvent Paid(string id, string orderId, double hours, long amount = 4900, string price = "price_pro", string currency = "USD", string? email = "ada@example.com") =>
        Event(id, EventTypes.OrderPaid, hours, subject: Subject.From(email, "cus_1")) with
        {
            Order = new OrderInfo { OrderId = orderId, Amount = amount, Currency = currency, Items = [Item(price, amount)] },
        };

    public static CanonicalEvent Pending(string id, string orderId, double hours, long amount = 4900, string price = "price_pro") =>
        Event(id, EventTypes.OrderPending, hours) with
        {
            Order = new OrderInfo { OrderId = orderId, Amount = amount, Currency = "USD", Items = [Item(price, amount)] },
        };

    public static CanonicalEvent Refund(string id, string orderId, double hours, long? amount, string? refundId = null, long? total = null, bool? full = null) =>
        Event(id, EventTypes.OrderRefunded, hours, subject: new Subject()) with
        {
            Order = new OrderInfo { OrderId = orderId, Currency = "USD", RefundAmount = amount, RefundId = refundId, RefundedTotal = total, FullyRefunded = full },
        };

    public static CanonicalEvent Dispute(string id, string orderId, double hours, string disputeId, string? outcome = null) =>
        Event(id, outcome is null ? EventTypes.ChargebackOpened : EventTypes.ChargebackClosed, hours, subject: new Subject()) with
        {
            Order = new OrderInfo { OrderId = orderId, Currency = "USD" },
            Chargeback = new ChargebackInfo { DisputeId = disputeId, Outcome = outcome },
        };

    public static CanonicalEvent Fulfilled(string id, string orderId, double hours) =>
        Event(id, EventTypes.OrderFulfilled, hours, subject: new Subject()) with { Order = new OrderInfo { OrderId = orderId } };

    public static CanonicalEvent CheckoutStarted(string id, double hours) => Event(id, EventTypes.CheckoutStarted, hours);

    public static CanonicalEvent Optin(string id, double hours, string channel = "email", string source = "kit-main", string provider = "kit", DateTimeOffset? at = null, IReadOnlyList<string>? tags = null) =>
        Event(id, EventTypes.Optin, hours, source, provider, Subject.From("ada@example.com")) with
        {
            Consent = [new ConsentInfo { Channel = channel, Granted = true, Source = "form 12", At = at }],
            Tags = tags ?? [],
        };

    public static CanonicalEvent Unsubscribe(string id, double hours, string channel = "email", string source = "kit-main", string provider = "kit", DateTimeOffset? at = null) =>
        Event(id, EventTypes.Unsubscribe, hours, source, provider, Subject.From("ada@example.com")) with
        {
            Consent = [new ConsentInfo { Channel = channel, Granted = false, At = at }],
        };

    public static CanonicalEvent SpamComplaint(string id, double hours) =>
        Event(id, EventTypes.SpamComplaint, hours, "kit-main", "kit", Subject.From("ada@example.com"));

    public static CanonicalEvent Tag(string id, double hours, string tag, bool added = true, string source = "kit-main", string provider = "kit") =>
        Event(id, added ? EventTypes.TagAdded : EventTypes.TagRemoved, hours, source, provider, Subject.From("ada@example.com")) with { Tags = [tag] };

    public static CanonicalEvent Access(string id, double hours, string productId, bool granted = true, string source = "teach", string provider = "teachable") =>
        Event(id, granted ? EventTypes.AccessGranted : EventTypes.AccessRevoked, hours, source, provider, Subject.From("ada@example.com")) with
        {
            Access = new AccessInfo { ProductId = productId },
        };

    public static CanonicalEvent Visit(string id, double hours, string campaign, string? firstCampaign = null) =>
        Event(id, EventTypes.Optin, hours, "form", "forms", Subject.From("ada@example.com")) with
        {
            Attribution = new Attribution { UtmSource = "newsletter", UtmCampaign = campaign },
            FirstTouch = firstCampaign is null ? null : new Attribution { UtmSource = "ads", UtmCampaign = firstCampaign },
        };

    public static CanonicalEvent Webinar(string id, double hours, bool attended, string webinarId = "wb_1", string? attendance = null, long? duration = null) =>
        Event(id, attended ? EventTypes.WebinarAttended : EventTypes.WebinarRegistered, hours, "zoom-main", "zoom", Subject.From("ada@example.com")) with
        {
            Webinar = new WebinarInfo { WebinarId = webinarId, Topic = "Launch", Attendance = attendance, DurationSeconds = duration },
        };

    public static CanonicalEvent Booking(string id, double hours, string type, string bookingId, string? from = null) =>
        Event(id, type, hours, "cal", "calendly", Subject.From("ada@example.com")) with
        {
            Booking = new BookingInfo { BookingId = bookingId, EventType = "Discovery call", StartsAt = At(hours + 48), RescheduledFrom = from },
        };

    public static PersonState Fold(IEnumerable<CanonicalEvent> events, DateTimeOffset asOf, Policy? policy = null, IEnumerable<OperatorOverride>? overrides = null)
    {
        var fold = new PersonFold(policy ?? Rules);
        fold.ApplyAll(events);
        foreach (var o in overrides ?? []) fold.ApplyOverride(o);
        return fold.Snapshot(asOf);
    }
}
