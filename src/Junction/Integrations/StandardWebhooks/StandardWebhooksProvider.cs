using System.Globalization;
using Junction.Providers;

namespace Junction.Integrations.StandardWebhooks;

/// <summary>
/// Standard Webhooks v1 (standard-webhooks spec): <c>webhook-signature</c> holds space-separated
/// <c>v1,&lt;base64&gt;</c> entries, each HMAC-SHA256 keyed with the base64-decoded part of a
/// <c>whsec_</c> secret over <c>"{webhook-id}.{webhook-timestamp}." + body</c>. Svix sends the same
/// scheme under <c>svix-*</c> header names, accepted too.
/// </summary>
public sealed class StandardWebhooksProvider : IWebhookProvider
{
    public string Name => "standard-webhooks";

    public string Kind => State.ProviderKinds.Custom;

    public bool CanonicalEvents => true;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "whsec_ZGVtby1zdGFuZGFyZC13ZWJob29rcy1zZWNyZXQ=";

    public Config.SourceConfig? Demo => new() { Id = "demo-standard", Provider = "standard-webhooks", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new StandardWebhooksMapper();

    public IReadOnlyList<string> KeptHeaders { get; } =
        ["webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) =>
        WebhookSignatures.DecodeSecret(secret) is null ? "expected a Standard Webhooks secret: whsec_ followed by base64 (24 to 64 bytes)" : null;

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        var (id, idHeader) = Header(request, "id");
        var (timestampText, tsHeader) = Header(request, "timestamp");
        var (signature, sigHeader) = Header(request, "signature");
        if (string.IsNullOrEmpty(signature)) return SignatureCheck.Missing(sigHeader);
        if (string.IsNullOrEmpty(id)) return SignatureCheck.Missing(idHeader);
        if (string.IsNullOrEmpty(timestampText)) return SignatureCheck.Missing(tsHeader);
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp))
        {
            return SignatureCheck.Malformed(tsHeader, "unix seconds");
        }

        var prefix = $"{id}.{timestampText}.";
        var candidates = signature.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var matched = false;
        foreach (var secret in secrets)
        {
            if (WebhookSignatures.DecodeSecret(secret) is not { } key) continue;
            var expected = Signatures.HmacSha256(key, prefix, request.Body.Span);
            foreach (var candidate in candidates)
            {
                // Only the symmetric v1 scheme; v1a (ed25519) entries are skipped, not failed.
                if (candidate.StartsWith("v1,", StringComparison.Ordinal))
                {
                    matched |= Signatures.Base64Equals(expected, candidate.AsSpan(3));
                }
            }
        }
        if (!matched) return SignatureCheck.Bad(sigHeader);
        return Signatures.WithinTolerance(timestamp, now, tolerance)
            ? SignatureCheck.Valid
            : SignatureCheck.Stale(tsHeader, timestamp, now, tolerance);
    }

    public string? DedupKey(WebhookRequest request)
    {
        var (id, _) = Header(request, "id");
        return string.IsNullOrWhiteSpace(id) ? null : id.Trim();
    }

    private static (string? Value, string Name) Header(WebhookRequest request, string suffix)
    {
        var name = "webhook-" + suffix;
        var value = request.Header(name);
        if (!string.IsNullOrEmpty(value)) return (value, name);
        var svix = request.Header("svix-" + suffix);
        return string.IsNullOrEmpty(svix) ? (null, name) : (svix, "svix-" + suffix);
    }
}
