using System.Text.Json;
using Junction.Providers;

namespace Junction.Integrations.Gumroad;

/// <summary>
/// Gumroad signs nothing: its ping worker sends only a Content-Type (antiwork/gumroad
/// <c>post_to_individual_ping_endpoint_worker.rb</c>). The source is authenticated by a secret token
/// in the ping URL (<c>/v1/hooks/{source}?token=…</c>), compared in constant time with every
/// configured secret. No event id is sent either: the dedup key is built from the sale (or
/// subscription) and the state flags a later ping about it changes.
/// </summary>
public sealed class GumroadProvider : IWebhookProvider
{
    public const string TokenParameter = UrlToken.Parameter;

    public string Name => "gumroad";

    public string Kind => State.ProviderKinds.Payments;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_gumroad_token_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-gumroad", Provider = "gumroad", Secrets = [DemoSecret] };

    public Normalize.IPayloadMapper Mapper { get; } = new GumroadMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) => UrlToken.Validate(secret);

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        UrlToken.Check(request, secrets);

    /// <summary>
    /// <c>sale_id</c> + <c>resource_name</c> + the refunded/disputed/dispute_won flags, so a refund
    /// ping after the sale ping is a new key while a retry (which only adds <c>retry_count</c>) is not;
    /// subscription pings use <c>subscription_id</c> + resource + <c>cancelled_at</c>/<c>ended_at</c>.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        Dictionary<string, string> f;
        try
        {
            f = GumroadPing.Fields(request.Body.Span);
        }
        catch (JsonException)
        {
            return null;
        }
        var resource = GumroadPing.Get(f, "resource_name") ?? "sale";
        if (GumroadPing.Get(f, "sale_id") is { } sale)
        {
            // A partial refund ping (refunded still false) is the same body for every partial refund
            // of the sale: nothing tells a second partial refund from a resend of the first, so each
            // delivery is kept (a lost 200 can store a resend twice; no amount is counted twice,
            // since a partial refund ping carries none).
            if (resource == "refund" && !GumroadPing.Flag(f, "refunded"))
            {
                return $"refund:{sale}:partial:{Guid.NewGuid():N}";
            }
            return $"{resource}:{sale}:refunded={GumroadPing.Flag(f, "refunded")}:disputed={GumroadPing.Flag(f, "disputed")}:dispute_won={GumroadPing.Flag(f, "dispute_won")}";
        }
        if (GumroadPing.Get(f, "subscription_id") is { } subscription)
        {
            return $"{resource}:{subscription}:{GumroadPing.Get(f, "cancelled_at")}:{GumroadPing.Get(f, "ended_at")}"
                + $":{GumroadPing.Get(f, "restarted_at")}:{GumroadPing.Get(f, "effective_as_of")}";
        }
        return null;
    }
}
