using System.Text;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// ActiveCampaign webhooks (developers.activecampaign.com/page/webhooks): form-encoded POSTs with
/// bracketed keys, unsigned, never retried, delivered "at least once". The URL carries a secret token
/// (<c>/v1/hooks/{source}?token=…</c>), compared in constant time. No event id is sent.
/// </summary>
public sealed class ActiveCampaignProvider : IWebhookProvider
{
    public string Name => "activecampaign";

    public string Kind => State.ProviderKinds.Email;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_activecampaign_token_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-activecampaign", Provider = "activecampaign", Secrets = [DemoSecret] };

    public IPayloadMapper Mapper { get; } = new ActiveCampaignMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) => UrlToken.Validate(secret);

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        UrlToken.Check(request, secrets);

    /// <summary><c>type</c> + <c>date_time</c> + contact + list + tag: what a duplicate delivery repeats and a new change does not.</summary>
    public string? DedupKey(WebhookRequest request)
    {
        var f = FormBody.Parse(Encoding.UTF8.GetString(request.Body.Span));
        var type = ActiveCampaignMapper.Get(f, "type");
        var at = ActiveCampaignMapper.Get(f, "date_time");
        return type is null || at is null ? null : ActiveCampaignMapper.Key(type, f);
    }
}
