using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Stripe;

/// <summary>
/// Stripe purchases Junction makes itself. Synthetic: a <c>payment_intent.succeeded</c> and a
/// <c>charge.refunded</c> event as Stripe sends them (api_version 2024-06-20), signed with the source's
/// secret. Sandbox: a PaymentIntent created and confirmed with the test card <c>pm_card_visa</c>, then
/// a refund, each with an Idempotency-Key (docs.stripe.com/testing); only with a test-mode key.
/// </summary>
public sealed class StripeSimulatedPayments : ISimulatedPayments
{
    public SimulatedWebhook Paid(SourceConfig source, SimulatedPurchase purchase, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(purchase);
        var intent = $"pi_{purchase.Reference}";
        var metadata = new JsonObject();
        foreach (var (key, value) in purchase.Metadata) metadata[key] = value;
        return Event(source, purchase, $"evt_{purchase.Reference}_paid", "payment_intent.succeeded", intent, new JsonObject
        {
            ["id"] = intent, ["object"] = "payment_intent", ["amount"] = purchase.Amount, ["amount_received"] = purchase.Amount,
            ["currency"] = purchase.Currency, ["latest_charge"] = $"ch_{purchase.Reference}", ["livemode"] = purchase.Live,
            ["receipt_email"] = purchase.Email, ["status"] = "succeeded", ["metadata"] = metadata,
        }, now);
    }

    public SimulatedWebhook Refunded(SourceConfig source, SimulatedPurchase purchase, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(purchase);
        var intent = $"pi_{purchase.Reference}";
        return Event(source, purchase, $"evt_{purchase.Reference}_refund", "charge.refunded", intent, new JsonObject
        {
            ["id"] = $"ch_{purchase.Reference}", ["object"] = "charge", ["amount"] = purchase.Amount, ["amount_captured"] = purchase.Amount,
            ["amount_refunded"] = purchase.Amount, ["billing_details"] = new JsonObject { ["email"] = purchase.Email }, ["captured"] = true,
            ["currency"] = purchase.Currency, ["livemode"] = purchase.Live, ["paid"] = true, ["payment_intent"] = intent, ["refunded"] = true,
            ["status"] = "succeeded",
        }, now);
    }

    public string? SandboxRefusal(SourceConfig source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return IsTestKey(source.Option("api_key")) ? null
            : $"sandbox needs sources.{source.Id}.api_key to be a Stripe test-mode key (sk_test_… or rk_test_…); a live key would charge a real card";
    }

    public async Task<(string OrderId, string Detail)> SandboxPurchaseAsync(ProviderApiClient api, SimulatedPurchase purchase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(purchase);
        List<KeyValuePair<string, string>> fields =
        [
            new("amount", purchase.Amount.ToString(CultureInfo.InvariantCulture)), new("currency", purchase.Currency),
            new("confirm", "true"), new("payment_method", "pm_card_visa"), new("payment_method_types[]", "card"),
            new("receipt_email", purchase.Email),
        ];
        if (purchase.Description is { } description) fields.Add(new("description", description));
        foreach (var (key, value) in purchase.Metadata) fields.Add(new($"metadata[{key}]", value));
        var pi = await api.PostFormAsync("/v1/payment_intents", fields, $"junction-{purchase.Reference}-purchase", cancellationToken);
        var id = pi.GetProperty("id").GetString() ?? throw new InvalidOperationException("Stripe answered a PaymentIntent without an id");
        var status = pi.TryGetProperty("status", out var s) ? s.GetString() : null;
        if (status != "succeeded") throw new InvalidOperationException($"Stripe test mode answered PaymentIntent {id} with status {status ?? "(none)"}, not succeeded");
        return (id, $"Stripe test mode: PaymentIntent {id} confirmed with the test card pm_card_visa");
    }

    public async Task<string> SandboxRefundAsync(ProviderApiClient api, string orderId, SimulatedPurchase purchase, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(purchase);
        var refund = await api.PostFormAsync("/v1/refunds", [new("payment_intent", orderId), .. purchase.Metadata.Select(m => new KeyValuePair<string, string>($"metadata[{m.Key}]", m.Value))],
            $"junction-{purchase.Reference}-refund", cancellationToken);
        return $"Stripe test mode: refund {refund.GetProperty("id").GetString()} of {orderId}";
    }

    /// <summary>A secret or restricted key of test mode: the only kind a sandbox purchase may use.</summary>
    public static bool IsTestKey(string? key) =>
        key is not null && (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal));

    private static SimulatedWebhook Event(SourceConfig source, SimulatedPurchase purchase, string id, string type, string orderId, JsonObject data, DateTimeOffset now)
    {
        if (source.Secrets.Count == 0) throw new InvalidOperationException($"sources.{source.Id} has no signing secret to sign a simulated event with");
        var created = now.ToUnixTimeSeconds();
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = id, ["object"] = "event", ["api_version"] = "2024-06-20", ["created"] = created, ["livemode"] = purchase.Live,
            ["pending_webhooks"] = 1, ["type"] = type, ["data"] = new JsonObject { ["object"] = data },
        }.ToJsonString());
        return new SimulatedWebhook(type, orderId, body, "application/json", [new(StripeProvider.SignatureHeader, StripeProvider.Sign(source.Secrets[0], created, body))]);
    }
}
