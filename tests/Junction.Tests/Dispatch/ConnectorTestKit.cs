using System.Net;
using System.Net.Sockets;
using Junction.Canonical;
using Junction.Dispatch;

namespace Junction.Tests.Dispatch;

/// <summary>Destination configs, tasks and canonical events for the connector tests.</summary>
internal static class ConnectorTestKit
{
    public static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    public static DestinationConfig DestConfig(string type, Uri baseUrl, Dictionary<string, string>? credentials = null,
        Dictionary<string, string>? options = null) => new()
    {
        Id = type + "-main",
        Type = type,
        Traits = DestinationTypes.TraitsOf(type),
        BaseUrl = baseUrl,
        RateLimit = 10,
        Credentials = credentials ?? [],
        Options = options ?? [],
    };

    public static HttpClient Http(TimeSpan? timeout = null) => new() { Timeout = timeout ?? TimeSpan.FromSeconds(10) };

    public static DeliveryWork StateWork(DesiredContact desired, DesiredContact? lastSynced = null, string personId = "p_1") => new()
    {
        TaskId = 1,
        PersonId = personId,
        Kind = DeliveryKinds.State,
        Desired = desired,
        LastSynced = lastSynced,
        IdempotencyKey = "teachable-main:" + personId,
    };

    public static DesiredContact Contact(string email, params string[] courses) => new()
    {
        Email = email,
        Subscribed = true,
        Courses = courses.Order(StringComparer.Ordinal).ToList(),
        Fields = [new("first_name", "Ada"), new("last_name", "Lovelace")],
    };

    public static DeliveryWork EventWork(CanonicalEvent e, string personId = "p_1", string? key = null) => new()
    {
        TaskId = 7,
        PersonId = personId,
        Kind = DeliveryKinds.Event,
        Event = e,
        IdempotencyKey = key ?? "msg_" + e.Id,
        TraceId = e.TraceId,
    };

    public static CanonicalEvent Paid(string orderId = "ord_1", long amount = 4900, string currency = "USD", string? anonymousId = null,
        DateTimeOffset? at = null, params OrderItem[] items) => new()
    {
        Id = CanonicalEvent.MakeId("stripe-main", "paid:" + orderId),
        RawId = "raw_1",
        Source = "stripe-main",
        Provider = "stripe",
        Type = EventTypes.OrderPaid,
        ProviderType = "checkout.session.completed",
        OccurredAt = at ?? Now.AddMinutes(-5),
        TraceId = "trace-1",
        Subject = Subject.From("ada@example.com", name: "Ada Lovelace") with { AnonymousId = anonymousId },
        Order = new OrderInfo
        {
            OrderId = orderId,
            Amount = amount,
            Currency = currency,
            Items = items.Length > 0 ? items : [new OrderItem { Sku = "course-pro", Name = "Pro course", Quantity = 1, Amount = amount }],
        },
    };

    public static CanonicalEvent Refunded(string orderId, long amount, long refund, bool full) => Paid(orderId, amount) with
    {
        Id = CanonicalEvent.MakeId("stripe-main", "refund:" + orderId + ":" + refund),
        Type = EventTypes.OrderRefunded,
        ProviderType = "charge.refunded",
        Order = Paid(orderId, amount).Order! with { RefundAmount = refund, RefundId = "re_" + refund, FullyRefunded = full },
    };

    /// <summary>A loopback URL nothing listens on (connection refused).</summary>
    public static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
