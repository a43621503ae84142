using System.Net.Http.Headers;
using Junction.Config;
using Junction.Normalize;
using Junction.Providers;

namespace Junction.Integrations.PayPal;

/// <summary>
/// PayPal Instant Payment Notification (developer.paypal.com/api/nvp-soap/ipn/IPNImplementation):
/// unsigned form posts, verified by posting <c>cmd=_notify-validate&amp;</c> followed by the message
/// exactly as received (same bytes, order and encoding) back to PayPal, which answers
/// <c>VERIFIED</c> or <c>INVALID</c> (paypal/ipn-code-samples). Anything else, a network error
/// included, refuses the message; PayPal resends until it gets a 200. With <c>receiver_email</c> set,
/// a message paid to another account is refused before asking PayPal. Dedup key:
/// <c>txn_id:payment_status</c> (one transaction moves Pending → Completed → Refunded), else
/// <c>ipn_track_id</c> for messages without a payment.
/// </summary>
public sealed class PayPalIpnProvider : IWebhookProvider, IAsyncWebhookVerifier
{
    public const string LiveUrl = "https://ipnpb.paypal.com/cgi-bin/webscr";
    public const string SandboxUrl = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr";

    private static readonly byte[] ValidatePrefix = "cmd=_notify-validate&"u8.ToArray();

    public string Name => "paypal-ipn";

    public string Kind => State.ProviderKinds.Payments;

    public Config.SourceConfig? Demo => new()
    {
        Id = "demo-paypal-ipn",
        Provider = "paypal-ipn",
        Secrets = [],
        Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["ipn_url"] = "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr" },
    };

    public bool RequiresSecrets => false;

    public IReadOnlyList<ProviderOption> Options { get; } =
    [
        new("ipn_url", false, $"the post-back URL; default {LiveUrl}, sandbox {SandboxUrl}"),
        new("receiver_email", false, "your PayPal account's primary email; messages for another receiver are refused"),
    ];

    public IPayloadMapper Mapper { get; } = new PayPalIpnMapper();

    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent"];

    public string? ValidateSecret(string secret) =>
        "PayPal IPN has no shared secret (it is verified by posting it back to PayPal): remove secrets";

    /// <summary>Intake calls <see cref="VerifyAsync"/>; without the post-back nothing is verified, so this refuses.</summary>
    public SignatureCheck Verify(WebhookRequest request, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now) =>
        new(SignatureFailure.BadSignature, "PayPal IPN is verified by posting it back to PayPal; only the asynchronous check can accept a message");

    public string? DedupKey(WebhookRequest request)
    {
        Dictionary<string, string> fields;
        try
        {
            fields = IpnForm.Parse(request.Body.Span);
        }
        catch (ArgumentException)
        {
            return null;
        }
        string? Get(string key) => fields.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        if (Get("txn_id") is { } txn && Get("payment_status") is { } status) return $"{txn}:{status}";
        return Get("ipn_track_id");
    }

    public async ValueTask<SignatureCheck> VerifyAsync(WebhookRequest request, SourceConfig source, VerifyContext context, CancellationToken cancellationToken)
    {
        if (request.Body.IsEmpty) return new SignatureCheck(SignatureFailure.MissingSignature, "body: an IPN message is a non-empty form post");
        var target = source.Option("ipn_url") ?? LiveUrl;
        if (!Uri.TryCreate(target, UriKind.Absolute, out var ipnUrl) || ipnUrl.Scheme is not ("https" or "http"))
        {
            return Refused($"sources.{source.Id}.ipn_url is not an http(s) URL");
        }

        if (source.Option("receiver_email") is { } expected)
        {
            Dictionary<string, string> fields;
            try
            {
                fields = IpnForm.Parse(request.Body.Span);
            }
            catch (ArgumentException ex)
            {
                return new SignatureCheck(SignatureFailure.MalformedSignature, $"charset: {ex.Message}");
            }
            var receiver = fields.GetValueOrDefault("receiver_email")?.Trim();
            // The IPN guide's own check: a verified message can still be a payment to someone else's account.
            if (!string.Equals(receiver, expected.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return Refused($"receiver_email is '{receiver}', not sources.{source.Id}.receiver_email");
            }
        }

        var postBack = new byte[ValidatePrefix.Length + request.Body.Length];
        ValidatePrefix.CopyTo(postBack, 0);
        request.Body.Span.CopyTo(postBack.AsSpan(ValidatePrefix.Length));
        try
        {
            using var call = new HttpRequestMessage(HttpMethod.Post, ipnUrl)
            {
                Content = new ByteArrayContent(postBack) { Headers = { ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded") } },
            };
            // PayPal refuses post-backs without a User-Agent (IPN integration guide).
            call.Headers.UserAgent.ParseAdd("Junction-IPN-Verifier/1.0");
            using var response = await context.Http.SendAsync(call, cancellationToken);
            var answer = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            if (!response.IsSuccessStatusCode)
            {
                return Refused($"the IPN post-back to {ipnUrl.Host} answered {(int)response.StatusCode} {response.StatusCode}; PayPal will resend");
            }
            return answer switch
            {
                "VERIFIED" => SignatureCheck.Valid,
                "INVALID" => Refused("PayPal answered INVALID to the post-back: this message did not come from PayPal unaltered"),
                _ => Refused($"the IPN post-back answered '{(answer.Length > 40 ? answer[..40] : answer)}', not VERIFIED or INVALID"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return Refused($"the IPN post-back to {ipnUrl.Host} failed: {ex.Message}; PayPal will resend");
        }
    }

    private static SignatureCheck Refused(string detail) => new(SignatureFailure.BadSignature, detail);

    internal static string? CharsetOf(string contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return null;
        return string.IsNullOrWhiteSpace(media.CharSet) ? null : media.CharSet.Trim('"');
    }
}
