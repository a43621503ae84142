using System.Text;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.Mailchimp;

/// <summary>
/// Mailchimp Marketing audience webhooks (mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks):
/// no signature, so the callback URL carries a secret token (<c>/v1/hooks/{source}?token=…</c>),
/// compared in constant time. Mailchimp checks the URL with a GET when the webhook is saved and
/// wants a 200: answered here, stored nowhere. Deliveries are form-encoded with bracketed keys and
/// carry no event id.
/// </summary>
public sealed class MailchimpProvider : IWebhookProvider, IWebhookUrlCheck
{
    public string Name => "mailchimp";

    public string Kind => State.ProviderKinds.Email;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_mailchimp_token_0123";

    public Config.SourceConfig? Demo => new() { Id = "demo-mailchimp", Provider = "mailchimp", Secrets = [DemoSecret] };

    public IPayloadMapper Mapper { get; } = new MailchimpMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) => UrlToken.Validate(secret);

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        UrlToken.Check(request, secrets);

    public HandshakeReply AnswerGet(Config.SourceConfig source) => new(200, "text/plain", "ok");

    /// <summary>
    /// <c>type</c> + <c>fired_at</c> + <c>data[list_id]</c> + the member (<c>data[id]</c>, else the
    /// address): Mailchimp's retry of a delivery repeats all four, a new change differs in one.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        var f = FormBody.Parse(Encoding.UTF8.GetString(request.Body.Span));
        var type = MailchimpMapper.Get(f, "type");
        var firedAt = MailchimpMapper.Get(f, "fired_at");
        if (type is null || firedAt is null) return null;
        return $"{type}:{firedAt}:{MailchimpMapper.Get(f, "data[list_id]")}:{MailchimpMapper.Member(f)}";
    }
}
