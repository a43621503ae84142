using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// Kajabi documents no webhook signature (developers.kajabi.com "Webhooks" and the outbound webhook
/// data reference describe only the body), so the source is authenticated by a secret token in the
/// webhook URL (<c>/v1/hooks/{source}?token=…</c>), compared in constant time, as for Gumroad. The
/// dedup key is the body's <c>event</c> and <c>id</c> (the hook delivery's hash id; on the legacy
/// <c>purchase.created</c> webhook, the transaction id).
/// </summary>
public sealed class KajabiProvider : IWebhookProvider
{
    public string Name => "kajabi";

    public string Kind => State.ProviderKinds.Courses;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_kajabi_token_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-kajabi", Provider = "kajabi", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new KajabiMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) => UrlToken.Validate(secret);

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        UrlToken.Check(request, secrets);

    public string? DedupKey(WebhookRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var name = root.TryGetProperty("event", out var ev) && ev.ValueKind == JsonValueKind.String ? ev.GetString() : null;
            var id = root.TryGetProperty("id", out var i) && i.ValueKind is JsonValueKind.String or JsonValueKind.Number ? i.ToString() : null;
            return name is null || string.IsNullOrEmpty(id) ? null : $"{name}:{id}";
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
