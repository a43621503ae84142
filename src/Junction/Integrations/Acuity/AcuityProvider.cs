using System.Text;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.Acuity;

/// <summary>
/// Acuity Scheduling: <c>X-Acuity-Signature</c> is the base64 HMAC-SHA256 of the raw body keyed
/// with the account's API key (developers.acuityscheduling.com/docs/webhooks, "Verifying Webhook
/// Requests"); nothing time-bound is signed. The body is form-encoded
/// <c>action=scheduled&amp;id=…&amp;calendarID=…&amp;appointmentTypeID=…</c> and carries only the
/// appointment id, so every mapped event is enriched from <c>GET /appointments/{id}</c>, which needs
/// <c>user_id</c> and <c>api_key</c>.
/// </summary>
public sealed class AcuityProvider : IWebhookProvider
{
    public const string SignatureHeader = "X-Acuity-Signature";

    public string Name => "acuity";

    public string Kind => State.ProviderKinds.Bookings;

    /// <summary>The demo configuration's published secret: never a real one.</summary>
    public const string DemoSecret = "demo_acuity_api_key";

    public Config.SourceConfig? Demo => new()
    {
        Id = "demo-acuity",
        Provider = "acuity",
        Secrets = [DemoSecret],
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["user_id"] = "12345", ["api_key"] = DemoSecret },
    };

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("user_id", true, "the Acuity user id (API credentials page), to fetch the appointment a webhook names"),
        new("api_key", true, "the Acuity API key: the same key the webhooks are signed with (also in secrets)"),
        new("api_base_url", false, "a URL; default https://acuityscheduling.com/api/v1"),
    ];

    public IPayloadMapper Mapper { get; } = new AcuityMapper();

    public IProviderApi Api { get; } = new AcuityApi();

    public IReadOnlyList<string> KeptHeaders { get; } = ["x-acuity-signature", "content-type", "user-agent"];

    public string? ValidateSecret(string secret) => null;

    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        Signatures.VerifyBodyHmac(request, SignatureHeader, secrets, Signatures.Encoding64.Base64);

    /// <summary>
    /// <c>scheduled:{id}</c> and <c>canceled:{id}</c> happen once per appointment. The body carries no
    /// time or delivery id, so a second reschedule of one appointment is byte-for-byte the first:
    /// <c>rescheduled</c> and <c>changed</c> deliveries are each kept (a per-delivery key), and the
    /// fact key (appointment id + the new start, read from the API) makes a retry one fact.
    /// </summary>
    public string? DedupKey(WebhookRequest request)
    {
        var form = FormBody.Parse(Encoding.UTF8.GetString(request.Body.Span));
        if (!form.TryGetValue("action", out var action) || !form.TryGetValue("id", out var id) || id.Length == 0) return null;
        action = AcuityMapper.Action(action);
        return action is "scheduled" or "canceled"
            ? $"{action}:{id}"
            : $"{action}:{id}:delivery:{Guid.NewGuid():N}";
    }
}
