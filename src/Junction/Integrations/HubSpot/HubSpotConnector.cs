using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Canonical;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.HubSpot;

/// <summary>
/// HubSpot CRM v3 with a private app token. State: one batch upsert of the contact by email
/// (<c>POST /crm/v3/objects/contacts/batch/upsert</c>, idProperty email) carrying only the changed
/// properties, the mapped tags as one semicolon-separated property (so a removed tag is written away),
/// and — only when <c>subscription_type_id</c> is set — subscribe/unsubscribe through the
/// communication preferences API; otherwise consent stays with the email platform. Events (with
/// <c>deals: true</c>): a paid or refunded order becomes a deal upserted by a unique order-id property
/// and associated with the contact, so a retry or replay writes the same deal again.
/// </summary>
public sealed class HubSpotConnector : IDestinationConnector
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly string _token;
    private readonly string _tagsProperty;
    private readonly string? _subscriptionId;
    private readonly bool _deals;
    private readonly string _dealIdProperty;
    private readonly string _pipeline;
    private readonly string _stage;
    private readonly string? _refundStage;

    public HubSpotConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _token = config.Credentials.GetValueOrDefault(HubSpotDestination.AccessToken) ?? "";
        _tagsProperty = config.Options.GetValueOrDefault(HubSpotDestination.TagsProperty) ?? HubSpotDestination.DefaultTagsProperty;
        _subscriptionId = config.Options.GetValueOrDefault(HubSpotDestination.SubscriptionTypeId);
        _deals = config.Options.GetValueOrDefault(HubSpotDestination.Deals) == "true";
        _dealIdProperty = config.Options.GetValueOrDefault(HubSpotDestination.DealIdProperty) ?? HubSpotDestination.DefaultDealIdProperty;
        _pipeline = config.Options.GetValueOrDefault(HubSpotDestination.DealPipeline) ?? "default";
        _stage = config.Options.GetValueOrDefault(HubSpotDestination.DealStage) ?? "closedwon";
        _refundStage = config.Options.GetValueOrDefault(HubSpotDestination.RefundStage);
    }

    public DestinationConfig Config { get; }

    public Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = NewCall();
        if (work.Kind == DeliveryKinds.State && work.Desired is { } desired) return SyncContactAsync(call, desired, work.LastSynced, cancellationToken);
        if (work.Kind == DeliveryKinds.Event && work.Event is { } e)
        {
            if (!_deals) return Task.FromResult(call.Permanent("hubspot: events are delivered only with deals: true"));
            return SyncDealAsync(call, e, cancellationToken);
        }
        return Task.FromResult(call.Permanent("hubspot: nothing to deliver in this task"));
    }

    private DestinationHttp NewCall() => new(_http, _time, Config.BaseUrl, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token));

    private async Task<DeliveryResult> SyncContactAsync(DestinationHttp call, DesiredContact desired, DesiredContact? last, CancellationToken cancellationToken)
    {
        if (last is not null && last.Email != desired.Email)
        {
            // email.changed: move the contact HubSpot has (with its history) to the new address. When
            // HubSpot no longer has the old one (404), or already has the new one (409), sync in full.
            var moved = await call.SendAsync(HttpMethod.Patch, $"/crm/v3/objects/contacts/{Uri.EscapeDataString(last.Email)}?idProperty=email",
                new JsonObject { ["properties"] = new JsonObject { ["email"] = desired.Email } }, cancellationToken);
            if (moved.FailsForAnyRequest) return Fail(call, moved);
            last = moved.IsSuccess ? last with { Email = desired.Email } : null;
        }

        var properties = new JsonObject();
        var lastFields = last?.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        foreach (var (name, value) in desired.Fields)
        {
            if (lastFields is null || !lastFields.TryGetValue(name, out var before) || before != value) properties[name] = value;
        }
        // A field no longer set is cleared: HubSpot clears a property given an empty string.
        foreach (var name in lastFields?.Keys.Where(k => !desired.Fields.Any(f => f.Key == k)) ?? []) properties[name] = "";
        if (last is null || !last.Tags.SequenceEqual(desired.Tags)) properties[_tagsProperty] = string.Join(';', desired.Tags);

        if (properties.Count > 0)
        {
            var (_, failure) = await UpsertContactAsync(call, desired.Email, properties, cancellationToken);
            if (failure is not null) return failure;
        }

        if (_subscriptionId is { } subscription)
        {
            var subscribe = desired.Subscribed && last is not { Subscribed: true };
            var unsubscribe = !desired.Subscribed && (last is { Subscribed: true } || (desired.OptedOut && last is not { OptedOut: true }));
            if (subscribe || unsubscribe)
            {
                var body = new JsonObject { ["emailAddress"] = desired.Email, ["subscriptionId"] = subscription };
                if (subscribe)
                {
                    // Required where the account has GDPR features on; accepted everywhere.
                    body["legalBasis"] = "CONSENT_WITH_NOTICE";
                    body["legalBasisExplanation"] = "Opted in through a form Junction received";
                }
                var r = await call.SendAsync(HttpMethod.Post, "/communication-preferences/v3/" + (subscribe ? "subscribe" : "unsubscribe"), body, cancellationToken);
                // HubSpot answers 400 "… is already subscribed/unsubscribed": the state we wanted.
                if (!r.IsSuccess && !(r.Status == 400 && r.Body.Contains("already", StringComparison.OrdinalIgnoreCase))) return Fail(call, r);
            }
        }
        return call.Succeeded();
    }

    /// <summary>Creates or updates one contact by email; returns its HubSpot id.</summary>
    private async Task<(string? Id, DeliveryResult? Failure)> UpsertContactAsync(DestinationHttp call, string email, JsonObject properties, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["idProperty"] = "email", ["id"] = email, ["properties"] = properties }),
        };
        var r = await call.SendAsync(HttpMethod.Post, "/crm/v3/objects/contacts/batch/upsert", body, cancellationToken);
        return BatchResult(call, r);
    }

    private async Task<DeliveryResult> SyncDealAsync(DestinationHttp call, CanonicalEvent e, CancellationToken cancellationToken)
    {
        if (e.Type is not (EventTypes.OrderPaid or EventTypes.OrderRefunded)) return call.Succeeded(); // deals are orders only
        if (e.Order is not { } order) return call.Permanent($"hubspot: {e.Type} event {e.Id} has no order");
        if (e.Subject.Email is not { Length: > 0 } email) return call.Permanent($"hubspot: {e.Type} event {e.Id} has no email to associate the deal with");
        var currency = Money.Currency(order.Currency);

        var deal = new JsonObject
        {
            ["dealname"] = order.Items.Count > 0 && order.Items[0].Name is { Length: > 0 } item ? $"{item} ({order.OrderId})" : "Order " + order.OrderId,
            ["pipeline"] = _pipeline,
            ["closedate"] = e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        };
        if (currency is not null) deal["deal_currency_code"] = currency;
        if (e.Type == EventTypes.OrderPaid)
        {
            deal["dealstage"] = _stage;
            if (order.Amount is { } amount && currency is not null) deal["amount"] = Money.FormatMajor(amount, currency);
        }
        else if (_refundStage is not null)
        {
            deal["dealstage"] = _refundStage;
        }
        else
        {
            // No refund stage: the deal keeps its stage and its amount becomes what was kept. Needs the
            // order total and the refunded total (a lone partial refund amount would not add up on a second one).
            long? net = order.FullyRefunded == true ? 0
                : order.Amount is { } total && (order.RefundedTotal ?? order.RefundAmount) is { } refunded ? Math.Max(0, total - refunded) : null;
            if (net is null || currency is null)
            {
                return call.Permanent($"hubspot: refund of order {order.OrderId} names no order total to net against; set {HubSpotDestination.RefundStage} to move refunded deals to a stage instead");
            }
            deal["amount"] = Money.FormatMajor(net.Value, currency);
        }

        var (contactId, failure) = await UpsertContactAsync(call, email, [], cancellationToken);
        if (failure is not null) return failure;

        // Upsert by the unique order-id property: a retry after a timeout, or a replay, writes the same deal.
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["idProperty"] = _dealIdProperty, ["id"] = order.OrderId, ["properties"] = deal }),
        };
        var r = await call.SendAsync(HttpMethod.Post, "/crm/v3/objects/deals/batch/upsert", body, cancellationToken);
        var (dealId, dealFailure) = BatchResult(call, r);
        if (dealFailure is not null) return dealFailure;

        // The default deal → contact association (type 3); associating twice leaves one (PUT).
        var link = await call.SendAsync(HttpMethod.Put,
            $"/crm/v4/objects/deals/{Uri.EscapeDataString(dealId!)}/associations/default/contacts/{Uri.EscapeDataString(contactId!)}", null, cancellationToken);
        if (!link.IsSuccess) return Fail(call, link);
        return call.Succeeded();
    }

    /// <summary>A batch answer: 200 with <c>results[0].id</c>, or 207 with <c>errors</c> (one input refused).</summary>
    private (string? Id, DeliveryResult? Failure) BatchResult(DestinationHttp call, HttpReply r)
    {
        if (!r.IsSuccess) return (null, Fail(call, r));
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            var root = doc.RootElement;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                return (null, call.Permanent("hubspot: " + Observability.Pii.Redact(ErrorMessage(r.Body)), r.Status));
            }
            if (root.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array && results.GetArrayLength() > 0
                && results[0].TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } value)
            {
                return (value, null);
            }
        }
        catch (JsonException)
        {
        }
        return (null, call.Unexpected(r, "not the batch result HubSpot documents"));
    }

    private DeliveryResult Fail(DestinationHttp call, HttpReply r)
    {
        var result = call.Failed(r, "hubspot", ErrorMessage);
        if (r.Status == 401) return result with { Error = result.Error + $" (credentials.{HubSpotDestination.AccessToken}: the private app token)" };
        if (r.Status == 429) return result with { RetryAfter = RateLimitWait(r, _time) };
        return result;
    }

    /// <summary>
    /// How long a 429 asks to wait: Retry-After where HubSpot gives one, else its window
    /// (<c>X-HubSpot-RateLimit-Interval-Milliseconds</c>, 10 000 for the burst limit), else 10 s; the
    /// daily limit resets at midnight in the account's time zone, which the answer does not say: an hour.
    /// </summary>
    internal static TimeSpan RateLimitWait(HttpReply r, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (DestinationHttp.RetryAfter(r.Headers, time) is { } retryAfter) return retryAfter;
        if (r.Body.Contains("\"DAILY\"", StringComparison.Ordinal)) return TimeSpan.FromHours(1);
        if (r.Headers is { } headers && headers.TryGetValues("X-HubSpot-RateLimit-Interval-Milliseconds", out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 86_400_000)
        {
            return TimeSpan.FromMilliseconds(ms);
        }
        return TimeSpan.FromSeconds(10);
    }

    /// <summary>HubSpot's errors: <c>{"status":"error","message":"…","category":"VALIDATION_ERROR","errors":[{"message":"…"}]}</c>.</summary>
    internal static string? ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var parts = new List<string>();
            if (root.TryGetProperty("category", out var category) && category.ValueKind == JsonValueKind.String) parts.Add(category.GetString()!);
            if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String) parts.Add(message.GetString()!);
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                foreach (var error in errors.EnumerateArray().Take(3))
                {
                    if (error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) parts.Add(m.GetString()!);
                }
            }
            return parts.Count > 0 ? string.Join(": ", parts.Distinct(StringComparer.Ordinal)) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
