using Junction.Config;

namespace Junction.Providers;

/// <summary>
/// A made-up purchase for a smoke run or the demo's traffic. <see cref="Reference"/> makes every
/// provider id of it (payment, charge, event) unique and recognisable; <see cref="Metadata"/> carries
/// what matches the product (<c>price</c>, <c>product</c> or <c>sku</c>) and the attribution.
/// </summary>
public sealed record SimulatedPurchase
{
    /// <summary>E.g. <c>smoke_r1</c> or <c>demo_00042</c>.</summary>
    public required string Reference { get; init; }

    public required string Email { get; init; }

    /// <summary>Minor units.</summary>
    public required long Amount { get; init; }

    /// <summary>Lower-case ISO code, as payment APIs take it.</summary>
    public required string Currency { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Shown in the provider's dashboard for a sandbox purchase.</summary>
    public string? Description { get; init; }

    /// <summary>False for a test-mode event (a smoke run: kept out of every figure); the demo's traffic is live-mode demo data.</summary>
    public bool Live { get; init; }
}

/// <summary>A webhook exactly as the provider would send it, signed with the source's secret; <paramref name="Event"/> names it (the provider's event type).</summary>
public sealed record SimulatedWebhook(string Event, string OrderId, byte[] Body, string ContentType, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>
/// What a payment provider offers (<see cref="IWebhookProvider.Simulated"/>) when Junction can simulate its purchases: signed webhooks of a paid and a
/// refunded order posted to its own intake (a smoke run's synthetic mode, the demo's traffic), and,
/// where the provider has a test mode, real test-mode purchases through its API (a smoke run's
/// sandbox mode), whose own webhooks then come back.
/// </summary>
public interface ISimulatedPayments
{
    SimulatedWebhook Paid(SourceConfig source, SimulatedPurchase purchase, DateTimeOffset now);

    SimulatedWebhook Refunded(SourceConfig source, SimulatedPurchase purchase, DateTimeOffset now);

    /// <summary>Null when this source may buy through the provider's test mode; else why not (no key, a live key that would charge a real card).</summary>
    string? SandboxRefusal(SourceConfig source);

    /// <summary>Creates and confirms a test-mode purchase; the order id Junction will see, and what was done.</summary>
    Task<(string OrderId, string Detail)> SandboxPurchaseAsync(ProviderApiClient api, SimulatedPurchase purchase, CancellationToken cancellationToken);

    /// <summary>Refunds it in full; what was done.</summary>
    Task<string> SandboxRefundAsync(ProviderApiClient api, string orderId, SimulatedPurchase purchase, CancellationToken cancellationToken);
}
