using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Zoom;

/// <summary>
/// Zoom: <c>x-zm-signature: v0=&lt;hex&gt;</c>, HMAC-SHA256 keyed with the app's Secret Token over
/// <c>"v0:{x-zm-request-timestamp}:{raw body}"</c> (developers.zoom.us/docs/api/webhooks, "Verify
/// webhook events"); the timestamp (Unix seconds) is checked after the signature, within the source's
/// tolerance. Zoom validates the endpoint (on setup and every 72 h) with a signed
/// <c>endpoint.url_validation</c> event, answered 200 with <c>{"plainToken", "encryptedToken"}</c>,
/// the latter the hex HMAC-SHA256 of the plain token with the Secret Token: answered here, stored
/// nowhere. It is answered only when its own signature and timestamp check out, because an answer
/// is an HMAC with our secret of a string the caller chose — unverified, it would sign forged events.
/// Zoom sends no event id: the dedup key is built from the event, <c>event_ts</c> and the ids of the
/// webinar and of the person.
/// </summary>
public sealed class ZoomProvider : IWebhookProvider, IWebhookHandshake
{
    public const string SignatureHeader = "x-zm-signature";
    public const string TimestampHeader = "x-zm-request-timestamp";
    public const string UrlValidation = "endpoint.url_validation";

    public string Name => "zoom";

    public string Kind => State.ProviderKinds.Webinars;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_zoom_secret_token";

    public Config.SourceConfig? Demo => new() { Id = "demo-zoom", Provider = "zoom", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new ZoomMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["x-zm-signature", "x-zm-request-timestamp", "x-zm-trackingid", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) => null;

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Check(request, secrets, tolerance, now, out _);

    public HandshakeReply? Handshake(WebhookRequest request, SourceConfig source) =>
        Handshake(request, source, TimeProvider.System.GetUtcNow());

    /// <summary>The URL validation reply when the request is a validly signed, fresh <c>endpoint.url_validation</c>; else null (intake then verifies it as a delivery and refuses it).</summary>
    public HandshakeReply? Handshake(WebhookRequest request, SourceConfig source, DateTimeOffset now)
    {
        // Read before any verification, so a hostile body must not reach a string read (invalid UTF-8 throws there).
        if (request.Body.Length > 4096 || Intake.JsonBody.Problem(request.Body.Span) is not null) return null;
        string? plainToken;
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("event", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() != UrlValidation
                || !root.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object
                || !payload.TryGetProperty("plainToken", out var token) || token.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            plainToken = token.GetString();
        }
        catch (JsonException)
        {
            return null;
        }
        if (string.IsNullOrEmpty(plainToken) || plainToken.Length > 256) return null;
        if (!Check(request, source.Secrets, TimeSpan.FromSeconds(source.ToleranceSeconds), now, out var secret).IsValid || secret is null) return null;

        var encrypted = Convert.ToHexStringLower(Signatures.HmacSha256(Encoding.UTF8.GetBytes(secret), plainToken, ReadOnlySpan<byte>.Empty));
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("plainToken", plainToken);
            json.WriteString("encryptedToken", encrypted);
            json.WriteEndObject();
        }
        return new HandshakeReply(200, "application/json", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static SignatureCheck Check(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now, out string? matchedSecret)
    {
        matchedSecret = null;
        var header = request.Header(SignatureHeader);
        if (string.IsNullOrEmpty(header)) return SignatureCheck.Missing(SignatureHeader);
        var stamp = request.Header(TimestampHeader);
        if (string.IsNullOrEmpty(stamp)) return SignatureCheck.Missing(TimestampHeader);
        if (!long.TryParse(stamp.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return SignatureCheck.Malformed(TimestampHeader, "Unix seconds");
        }
        header = header.Trim();
        if (!header.StartsWith("v0=", StringComparison.Ordinal)) return SignatureCheck.Malformed(SignatureHeader, "v0=<hex signature>");

        var prefix = $"v0:{stamp.Trim()}:";
        var candidate = header.AsSpan(3);
        foreach (var secret in secrets)
        {
            var expected = Signatures.HmacSha256(Encoding.UTF8.GetBytes(secret), prefix, request.Body.Span);
            if (Signatures.HexEquals(expected, candidate) && matchedSecret is null) matchedSecret = secret;
        }
        if (matchedSecret is null) return SignatureCheck.Bad(SignatureHeader);
        // Zoom documents seconds; a millisecond value is read as such rather than refused as stale.
        var seconds = timestamp > 100_000_000_000 ? timestamp / 1000 : timestamp;
        return Signatures.WithinTolerance(seconds, now, tolerance)
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(TimestampHeader, seconds, now, tolerance);
    }

    /// <summary>
    /// <c>{event}:{event_ts}:{webinar uuid or id}:{person}</c>, the person being the participant
    /// (<c>participant_uuid</c>, else <c>user_id</c>, <c>id</c>, <c>email</c>) or the registrant
    /// (<c>id</c>, else <c>email</c>). A retry resends the same body, so it has the same key.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || Text(root, "event") is not { } name) return null;
            var ts = root.TryGetProperty("event_ts", out var t) ? t.GetRawText().Trim('"') : "";
            var obj = root.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.Object
                && p.TryGetProperty("object", out var o) && o.ValueKind == JsonValueKind.Object ? o : default;
            if (obj.ValueKind != JsonValueKind.Object) return $"{name}:{ts}";
            var webinar = Text(obj, "uuid") ?? Text(obj, "id") ?? "";
            var person = Person(obj, "participant", "participant_uuid", "user_id", "id", "email")
                ?? Person(obj, "registrant", "id", "email")
                ?? "";
            return $"{name}:{ts}:{webinar}:{person}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Person(JsonElement obj, string property, params string[] keys)
    {
        if (!obj.TryGetProperty(property, out var who) || who.ValueKind != JsonValueKind.Object) return null;
        foreach (var key in keys)
        {
            if (Text(who, key) is { Length: > 0 } v) return v;
        }
        return null;
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        } : null;
}
