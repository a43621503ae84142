using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Junction.Canonical;
using Junction.Normalize;
using Junction.Observability;

namespace Junction.Capture;

/// <summary>One problem with a posted event or form: the field (dotted path) and what was expected.</summary>
public sealed record FieldError(string Field, string Detail)
{
    public override string ToString() => $"{Field}: {Detail}";
}

/// <summary>A canonical event as a client posted it, before the bookkeeping fields (raw id, trace id) are known.</summary>
public sealed record PostedEvent(string Type, string? Id, DateTimeOffset? OccurredAt, CanonicalEvent Template);

/// <summary>
/// Reads an event in the generic canonical JSON shape (docs/events.md, "Canonical events API"):
/// the same fields and names GET /v1/events serves, less the bookkeeping ones. Used by
/// POST /v1/events at intake (each bad field → 422) and by the <c>api</c> and
/// <c>standard-webhooks</c> mappers (→ quarantine naming each field). Every problem is collected,
/// not just the first.
/// </summary>
public static class CanonicalInput
{
    public const int MaxIdLength = 200;
    private const int MaxText = 2048;

    private static readonly string[] SubjectIdentifiers = ["email", "customer_id", "purchase_token", "phone", "anonymous_id"];

    /// <summary>The fact key of a posted event: its own <c>id</c>, else the delivery's dedup key.</summary>
    public static string FactKey(string? bodyId, string dedupKey) => "event:" + (bodyId ?? dedupKey);

    /// <summary>The event's <c>id</c> when it is a usable string; null when absent or not a string.</summary>
    public static string? BodyId(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            && id.GetString() is { Length: > 0 and <= MaxIdLength } s ? s : null;

    /// <summary>Parses and validates; on failure returns null and every error.</summary>
    public static PostedEvent? Parse(JsonElement root, out List<FieldError> errors)
    {
        errors = [];
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("body", "expected a JSON object (a canonical event)"));
            return null;
        }

        var type = Str(root, "type", errors);
        if (type is null)
        {
            errors.Add(new FieldError("type", $"required; expected one of {TypeList}"));
        }
        else if (!EventTypes.All.Contains(type))
        {
            errors.Add(new FieldError("type", $"expected one of {TypeList}; got '{Clip(type)}'"));
        }

        string? id = null;
        if (Prop(root, "id") is { } idNode)
        {
            if (idNode.ValueKind != JsonValueKind.String || idNode.GetString() is not { Length: > 0 and <= MaxIdLength } s)
            {
                errors.Add(new FieldError("id", $"expected a string of 1 to {MaxIdLength} characters"));
            }
            else
            {
                id = s;
            }
        }

        DateTimeOffset? occurredAt = null;
        if (Prop(root, "occurred_at") is { } at)
        {
            occurredAt = Time(at, "occurred_at", errors);
        }

        var subject = ReadSubject(root, errors);
        var consent = ReadConsent(root, errors);
        var attribution = ReadAttribution(root, "attribution", errors);
        var firstTouch = ReadAttribution(root, "first_touch", errors);
        var tags = ReadTags(root, errors);
        var order = Nested(root, "order", "order_id", CanonicalJson.Default.OrderInfo, errors);
        var subscription = Nested(root, "subscription", "subscription_id", CanonicalJson.Default.SubscriptionInfo, errors);
        var chargeback = Nested(root, "chargeback", "dispute_id", CanonicalJson.Default.ChargebackInfo, errors);
        var access = Nested(root, "access", "product_id", CanonicalJson.Default.AccessInfo, errors);
        var webinar = Nested(root, "webinar", "webinar_id", CanonicalJson.Default.WebinarInfo, errors);
        var booking = Nested(root, "booking", "booking_id", CanonicalJson.Default.BookingInfo, errors);

        if (order is not null)
        {
            if (order.Currency is { } currency && (currency.Length != 3 || !currency.All(char.IsAsciiLetter)))
            {
                errors.Add(new FieldError("order.currency", $"expected an ISO 4217 code of three letters; got '{Clip(currency)}'"));
            }
            order = order with { Currency = order.Currency?.ToUpperInvariant() };
        }

        var testMode = false;
        if (Prop(root, "test_mode") is { } tm)
        {
            if (tm.ValueKind is JsonValueKind.True or JsonValueKind.False) testMode = tm.GetBoolean();
            else errors.Add(new FieldError("test_mode", "expected true or false"));
        }

        if (type is not null && EventTypes.All.Contains(type))
        {
            RequireFor(type, order, subscription, chargeback, access, webinar, booking, tags, subject, errors);
        }

        if (errors.Count > 0) return null;

        var template = new CanonicalEvent
        {
            Id = "",
            RawId = "",
            Source = "",
            Provider = "",
            Type = type!,
            ProviderType = Prop(root, "provider_type") is { ValueKind: JsonValueKind.String } pt ? pt.GetString() : null,
            OccurredAt = occurredAt ?? default,
            TraceId = "",
            Subject = subject!,
            Order = order,
            Subscription = subscription,
            Chargeback = chargeback,
            Attribution = attribution,
            FirstTouch = firstTouch,
            Consent = consent,
            Access = access,
            Webinar = webinar,
            Booking = booking,
            Tags = tags,
            TestMode = testMode,
        };
        return new PostedEvent(type!, id, occurredAt, template);
    }

    /// <summary>The posted event completed from the stored raw event (ids, source, trace, time).</summary>
    public static CanonicalEvent Complete(PostedEvent posted, RawInput raw)
    {
        var at = posted.OccurredAt ?? raw.ReceivedAt;
        var e = raw.Event(posted.Type, FactKey(posted.Id, raw.DedupKey), at, posted.Template.Subject,
            posted.Template.TestMode, posted.Template.ProviderType ?? posted.Type);
        return posted.Template with
        {
            Id = e.Id,
            RawId = e.RawId,
            Source = e.Source,
            Provider = e.Provider,
            ProviderType = e.ProviderType,
            OccurredAt = e.OccurredAt,
            OriginalTimezone = e.OriginalTimezone,
            TraceId = e.TraceId,
            Consent = [.. posted.Template.Consent.Select(c => c with { At = c.At?.ToUniversalTime() ?? e.OccurredAt, Source = c.Source ?? raw.Source })],
        };
    }

    public static string Describe(IEnumerable<FieldError> errors) => string.Join("; ", errors);

    private static readonly string TypeList = string.Join(", ", EventTypes.All.Order(StringComparer.Ordinal));

    private static void RequireFor(string type, OrderInfo? order, SubscriptionInfo? subscription, ChargebackInfo? chargeback,
        AccessInfo? access, WebinarInfo? webinar, BookingInfo? booking, List<string> tags, Subject? subject, List<FieldError> errors)
    {
        void Need(bool present, string field) =>
            _ = present || Add(errors, field, $"required for type {type}");

        if (type.StartsWith("order.", StringComparison.Ordinal) || type is EventTypes.PaymentFailed or EventTypes.CheckoutStarted or EventTypes.CheckoutAbandoned)
        {
            Need(order is not null, "order");
        }
        if (type is EventTypes.OrderRefunded && order is not null) Need(order.RefundAmount is not null || order.FullyRefunded is not null, "order.refund_amount");
        if (type.StartsWith("chargeback.", StringComparison.Ordinal)) Need(chargeback is not null, "chargeback");
        if (type.StartsWith("subscription.", StringComparison.Ordinal)) Need(subscription is not null, "subscription");
        if (type.StartsWith("access.", StringComparison.Ordinal)) Need(access is not null, "access");
        if (type.StartsWith("webinar.", StringComparison.Ordinal)) Need(webinar is not null, "webinar");
        if (type.StartsWith("booking.", StringComparison.Ordinal)) Need(booking is not null, "booking");
        if (type.StartsWith("tag.", StringComparison.Ordinal)) Need(tags.Count > 0, "tags");
        if (type is EventTypes.EmailChanged && subject is not null) Need(subject.PreviousEmail is not null, "subject.previous_email");
    }

    private static bool Add(List<FieldError> errors, string field, string detail)
    {
        errors.Add(new FieldError(field, detail));
        return true;
    }

    private static Subject? ReadSubject(JsonElement root, List<FieldError> errors)
    {
        if (Prop(root, "subject") is not { } node)
        {
            errors.Add(new FieldError("subject", $"required; expected an object with at least one identifier ({string.Join(", ", SubjectIdentifiers)})"));
            return null;
        }
        if (node.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError("subject", "expected an object"));
            return null;
        }
        var before = errors.Count;
        var email = Str(node, "email", errors, "subject.email");
        var normalized = Identifiers.NormalizeEmail(email);
        if (email is not null && normalized is null) errors.Add(new FieldError("subject.email", $"expected an email address; got '{Pii.MaskEmail(email)}'"));
        var phone = Str(node, "phone", errors, "subject.phone");
        var e164 = Identifiers.NormalizePhone(phone);
        if (phone is not null && e164 is null) errors.Add(new FieldError("subject.phone", "expected an E.164 number with its country code, e.g. +12125550100"));
        var previous = Str(node, "previous_email", errors, "subject.previous_email");
        if (previous is not null && Identifiers.NormalizeEmail(previous) is null) errors.Add(new FieldError("subject.previous_email", "expected an email address"));
        var subject = new Subject
        {
            Email = normalized,
            EmailRaw = email,
            CustomerId = Str(node, "customer_id", errors, "subject.customer_id"),
            PurchaseToken = Str(node, "purchase_token", errors, "subject.purchase_token"),
            Phone = e164,
            Name = Str(node, "name", errors, "subject.name")?.Trim(),
            PreviousEmail = Identifiers.NormalizeEmail(previous),
            AnonymousId = Str(node, "anonymous_id", errors, "subject.anonymous_id"),
        };
        if (errors.Count == before && subject is { Email: null, CustomerId: null, PurchaseToken: null, Phone: null, AnonymousId: null })
        {
            errors.Add(new FieldError("subject", $"expected at least one identifier ({string.Join(", ", SubjectIdentifiers)})"));
        }
        return subject;
    }

    private static List<ConsentInfo> ReadConsent(JsonElement root, List<FieldError> errors)
    {
        var result = new List<ConsentInfo>();
        if (Prop(root, "consent") is not { } node) return result;
        if (node.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("consent", "expected a list of {channel, granted}"));
            return result;
        }
        var i = 0;
        foreach (var item in node.EnumerateArray())
        {
            var path = $"consent[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(path, "expected an object {channel, granted}"));
                continue;
            }
            var channel = Str(item, "channel", errors, path + ".channel");
            if (channel is null || !channel.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
            {
                errors.Add(new FieldError(path + ".channel", "required; expected a lower-case channel name (email, sms, whatsapp …)"));
            }
            var granted = Prop(item, "granted");
            if (granted is not { ValueKind: JsonValueKind.True or JsonValueKind.False })
            {
                errors.Add(new FieldError(path + ".granted", "required; expected true or false"));
            }
            DateTimeOffset? at = Prop(item, "at") is { } atNode ? Time(atNode, path + ".at", errors) : null;
            bool? confirmed = Prop(item, "confirmed") switch
            {
                null => null,
                { ValueKind: JsonValueKind.True } => true,
                { ValueKind: JsonValueKind.False } => false,
                _ => Add(errors, path + ".confirmed", "expected true or false") ? null : null,
            };
            if (channel is not null && granted is { ValueKind: JsonValueKind.True or JsonValueKind.False } g)
            {
                result.Add(new ConsentInfo
                {
                    Channel = channel,
                    Granted = g.GetBoolean(),
                    Source = Str(item, "source", errors, path + ".source"),
                    At = at,
                    Wording = Str(item, "wording", errors, path + ".wording"),
                    Version = Str(item, "version", errors, path + ".version"),
                    Confirmed = confirmed,
                });
            }
        }
        return result;
    }

    private static Attribution? ReadAttribution(JsonElement root, string field, List<FieldError> errors)
    {
        if (Prop(root, field) is not { } node) return null;
        if (node.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field, "expected an object of utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page"));
            return null;
        }
        var a = new Attribution
        {
            UtmSource = Str(node, "utm_source", errors, field + ".utm_source"),
            UtmMedium = Str(node, "utm_medium", errors, field + ".utm_medium"),
            UtmCampaign = Str(node, "utm_campaign", errors, field + ".utm_campaign"),
            UtmTerm = Str(node, "utm_term", errors, field + ".utm_term"),
            UtmContent = Str(node, "utm_content", errors, field + ".utm_content"),
            Referrer = Str(node, "referrer", errors, field + ".referrer"),
            LandingPage = Str(node, "landing_page", errors, field + ".landing_page"),
        };
        return a.IsEmpty ? null : a;
    }

    private static List<string> ReadTags(JsonElement root, List<FieldError> errors)
    {
        var tags = new List<string>();
        if (Prop(root, "tags") is not { } node) return tags;
        if (node.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("tags", "expected a list of strings"));
            return tags;
        }
        var i = 0;
        foreach (var t in node.EnumerateArray())
        {
            if (t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 and <= 200 } s) tags.Add(s);
            else errors.Add(new FieldError($"tags[{i}]", "expected a non-empty string of at most 200 characters"));
            i++;
        }
        return tags;
    }

    /// <summary>A nested object read with the canonical model's own JSON contract, its key field checked first so the error names it.</summary>
    private static T? Nested<T>(JsonElement root, string field, string keyField, JsonTypeInfo<T> info, List<FieldError> errors) where T : class
    {
        if (Prop(root, field) is not { } node) return null;
        if (node.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new FieldError(field, $"expected an object with {keyField}"));
            return null;
        }
        var key = Prop(node, keyField);
        if (key is not { ValueKind: JsonValueKind.String } || key.Value.GetString() is not { Length: > 0 })
        {
            errors.Add(new FieldError($"{field}.{keyField}", "required; expected a non-empty string"));
            return null;
        }
        try
        {
            return node.Deserialize(info);
        }
        catch (JsonException ex)
        {
            var at = ex.Path is { Length: > 1 } p ? p.TrimStart('$') : "";
            errors.Add(new FieldError(field + at, "has the wrong type (amounts are whole numbers of minor units, times ISO-8601 strings, ids strings)"));
        }
        catch (FormatException)
        {
            errors.Add(new FieldError(field, "a time in it is not ISO-8601 (e.g. 2026-11-20T16:00:00Z)"));
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(new FieldError(field, ex.Message));
        }
        return null;
    }

    private static JsonElement? Prop(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>An optional string; a number is taken as its text (ids arrive as either); anything else is an error.</summary>
    private static string? Str(JsonElement obj, string name, List<FieldError> errors, string? path = null)
    {
        switch (Prop(obj, name))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.String } s:
                var text = s.GetString()!;
                if (text.Length > MaxText)
                {
                    errors.Add(new FieldError(path ?? name, $"expected at most {MaxText} characters"));
                    return null;
                }
                return string.IsNullOrWhiteSpace(text) ? null : text;
            case { ValueKind: JsonValueKind.Number } n:
                return n.GetRawText();
            default:
                errors.Add(new FieldError(path ?? name, "expected a string"));
                return null;
        }
    }

    private static DateTimeOffset? Time(JsonElement node, string path, List<FieldError> errors)
    {
        if (node.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParseExact(node.GetString(), IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return t;
        }
        errors.Add(new FieldError(path, $"expected ISO-8601 with an offset or Z (e.g. 2026-11-20T16:00:00Z); got {Clip(node.ToString())}"));
        return null;
    }

    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
    ];

    private static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
