using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Teachable;

/// <summary>
/// Teachable documents no webhook signature (docs.teachable.com lists events and payloads only;
/// third-party claims of an HMAC name no header or key), so the source is authenticated by a secret
/// token in the webhook URL (<c>/v1/hooks/{source}?token=…</c>), compared in constant time, as for
/// Gumroad. The body is one event object or a JSON array of them (a captured <c>Sale.created</c> is
/// an array of one); the dedup key is each event's <c>type</c> and <c>id</c>.
/// </summary>
public sealed class TeachableProvider : IWebhookProvider
{
    public string Name => "teachable";

    public string Kind => State.ProviderKinds.Courses;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_teachable_token_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-teachable", Provider = "teachable", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new TeachableMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) => UrlToken.Validate(secret);

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        UrlToken.Check(request, secrets);

    public string? DedupKey(WebhookRequest request)
    {
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var keys = new List<string>();
            foreach (var e in TeachableMapper.Events(doc.RootElement))
            {
                if (e.ValueKind != JsonValueKind.Object) return null;
                var type = e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                var id = e.TryGetProperty("id", out var i) && i.ValueKind is JsonValueKind.Number or JsonValueKind.String ? i.ToString() : null;
                if (type is null || id is null) return null;
                keys.Add($"{type}:{id}");
            }
            return keys.Count == 0 ? null : string.Join(',', keys);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
