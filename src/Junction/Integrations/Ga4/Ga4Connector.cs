using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Ga4;

/// <summary>
/// GA4 Measurement Protocol (event destination): <c>order.paid</c> becomes a <c>purchase</c> and
/// <c>order.refunded</c> (full or partial) a <c>refund</c>, posted to
/// <c>{base_url}/mp/collect?measurement_id=…&amp;api_secret=…</c> (options <c>measurement_id</c>,
/// credentials <c>api_secret</c>) with <c>transaction_id</c> = the canonical order id, so a resend is
/// the same transaction to GA4. Other event types succeed without a request.
/// The collect endpoint answers 2xx even to a malformed payload ("Validate events" in the
/// Measurement Protocol docs); with option <c>validate: true</c> each payload goes to
/// <c>/debug/mp/collect</c> first and any <c>validationMessages</c> fail the task permanently.
/// </summary>
public sealed partial class Ga4Connector(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationConnector
{
    // Measurement Protocol reference: timestamp_micros may backdate an event by up to 72 hours.
    private static readonly TimeSpan MaxBackdate = TimeSpan.FromHours(72);

    public DestinationConfig Config { get; } = config;

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        var attempt = new DestinationHttp(http, time);
        if (work.Event is not { } canonical) return attempt.Permanent("ga4: the task carries no canonical event");
        var name = canonical.Type switch
        {
            EventTypes.OrderPaid => "purchase",
            EventTypes.OrderRefunded => "refund",
            _ => null,
        };
        if (name is null) return attempt.Succeeded();
        if (canonical.Order is not { } order) return attempt.Permanent($"ga4: {canonical.Type} event {canonical.Id} has no order");

        if (!Config.Options.TryGetValue("measurement_id", out var measurementId) || string.IsNullOrWhiteSpace(measurementId))
        {
            return attempt.Permanent($"destinations.{Config.Id}.measurement_id: required for GA4 (e.g. G-XXXXXXXXXX)");
        }
        if (!Config.Credentials.TryGetValue("api_secret", out var apiSecret) || string.IsNullOrWhiteSpace(apiSecret))
        {
            return attempt.Permanent($"destinations.{Config.Id}.credentials.api_secret: required for GA4");
        }

        var body = Payload(canonical, order, name, work.PersonId, time.GetUtcNow());
        var query = "?measurement_id=" + Uri.EscapeDataString(measurementId);
        var secretQuery = query + "&api_secret=" + Uri.EscapeDataString(apiSecret);

        if (Config.Options.TryGetValue("validate", out var validate) && string.Equals(validate, "true", StringComparison.OrdinalIgnoreCase))
        {
            var check = await attempt.SendAsync(HttpMethod.Post, DestinationHttp.Under(Config.BaseUrl, "debug/mp/collect" + secretQuery),
                "/debug/mp/collect" + query, body, null, cancellationToken);
            if (!check.IsSuccess) return attempt.Failed(check, "ga4 validation");
            if (ValidationMessages(check.Body) is { } problems) return attempt.Permanent("ga4 validation: " + problems, check.Status);
        }

        var reply = await attempt.SendAsync(HttpMethod.Post, DestinationHttp.Under(Config.BaseUrl, "mp/collect" + secretQuery),
            "/mp/collect" + query, body, null, cancellationToken);
        return reply.IsSuccess ? attempt.Succeeded() : attempt.Failed(reply, "ga4 collect");
    }

    /// <summary>The Measurement Protocol request body for one purchase or refund.</summary>
    internal static string Payload(CanonicalEvent canonical, OrderInfo order, string name, string personId, DateTimeOffset now)
    {
        var currency = Money.Currency(order.Currency);
        var parameters = new JsonObject { ["transaction_id"] = order.OrderId };

        long? amount;
        var includeItems = true;
        if (name == "refund")
        {
            // A partial refund carries only its value; naming the order's items would refund all of them.
            var full = order.FullyRefunded == true || (order.RefundAmount is { } r && r == order.Amount);
            amount = order.RefundAmount ?? (full ? order.Amount : null);
            includeItems = full;
        }
        else
        {
            amount = order.Amount;
        }
        // GA4 requires currency whenever value is set; without one, the value is left out.
        if (currency is not null && amount is { } minor)
        {
            parameters["currency"] = currency;
            parameters["value"] = Money.ToMajor(minor, currency);
        }

        if (includeItems && order.Items.Count > 0)
        {
            var items = new JsonArray();
            foreach (var item in order.Items)
            {
                var entry = new JsonObject();
                if ((item.Sku ?? item.ProductId ?? item.PriceId) is { } itemId) entry["item_id"] = itemId;
                if (item.Name is { } itemName) entry["item_name"] = itemName;
                if (entry.Count == 0) continue; // GA4 needs item_id or item_name
                var quantity = Math.Max(item.Quantity, 1);
                entry["quantity"] = quantity;
                if (currency is not null && item.Amount is { } line) entry["price"] = Money.ToMajor(line, currency) / quantity;
                items.Add(entry);
            }
            if (items.Count > 0) parameters["items"] = items;
        }

        var body = new JsonObject
        {
            ["client_id"] = ClientId(canonical.Subject.AnonymousId, personId),
            ["user_id"] = personId,
        };
        var age = now - canonical.OccurredAt;
        if (age > TimeSpan.Zero && age < MaxBackdate)
        {
            body["timestamp_micros"] = canonical.OccurredAt.ToUnixTimeMilliseconds() * 1000;
        }
        body["events"] = new JsonArray { new JsonObject { ["name"] = name, ["params"] = parameters } };
        return body.ToJsonString();
    }

    /// <summary>
    /// The GA client id: from a <c>_ga</c> cookie value (<c>GA1.1.123.456</c> → <c>123.456</c>) or the
    /// event's anonymous id as given; else a stable one derived from the person id.
    /// </summary>
    internal static string ClientId(string? anonymousId, string personId)
    {
        if (!string.IsNullOrWhiteSpace(anonymousId))
        {
            var trimmed = anonymousId.Trim();
            var cookie = GaCookie().Match(trimmed);
            return cookie.Success ? cookie.Groups[1].Value : trimmed;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("junction-ga4\n" + personId));
        var a = BinaryPrimitives.ReadUInt32BigEndian(hash) % 2_000_000_000;
        var b = BinaryPrimitives.ReadUInt32BigEndian(hash.AsSpan(4)) % 2_000_000_000;
        return a.ToString(CultureInfo.InvariantCulture) + "." + b.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>"fieldPath: description (validationCode)" for each message of the validation server, or null when there are none.</summary>
    internal static string? ValidationMessages(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["validationMessages"] is not JsonArray { Count: > 0 } messages) return null;
            return string.Join("; ", messages.Select(m =>
                $"{m?["fieldPath"]}: {m?["description"]} ({m?["validationCode"]})"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "unreadable validation response";
        }
    }

    [GeneratedRegex(@"^GA\d+\.\d+\.(\d+\.\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex GaCookie();
}
