using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Mailchimp;

/// <summary>
/// Mailchimp Marketing API 3.0, HTTP Basic auth with any user name and the API key as password
/// (mailchimp.com/developer/marketing/docs/fundamentals). A member is addressed by the MD5 of its
/// lower-cased email; PUT upserts it, the tags endpoint adds and removes tags by name in one call.
/// </summary>
public sealed class MailchimpConnector : IDestinationConnector
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly string _listId;
    private readonly AuthenticationHeaderValue _auth;

    public MailchimpConnector(DestinationConfig config, HttpClient http, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _http = http;
        _time = time;
        _listId = config.Options.TryGetValue("list_id", out var list) ? list : "";
        var key = config.Credentials.TryGetValue("api_key", out var k) ? k : "";
        _auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("junction:" + key)));
    }

    public DestinationConfig Config { get; }

    /// <summary>The member id Mailchimp uses in URLs: MD5 of the lower-cased address, hex.</summary>
    public static string SubscriberHash(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
#pragma warning disable CA5351 // Mailchimp's documented member id, not a security use
        return Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant())));
#pragma warning restore CA5351
    }

    public async Task<DeliveryResult> DeliverAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var call = new DestinationHttp(_http, _time, Config.BaseUrl, r => r.Headers.Authorization = _auth)
        {
            ResetHeaders = ["RateLimit-Reset", "X-RateLimit-Reset"],
        };
        if (work.Kind == DeliveryKinds.Erase && work.Erase is { } erase) return await EraseAsync(call, erase, cancellationToken);
        if (work.Kind != DeliveryKinds.State || work.Desired is not { } desired)
        {
            return call.Permanent("Mailchimp takes desired-state and erase deliveries only");
        }
        var list = $"/3.0/lists/{Uri.EscapeDataString(_listId)}/members/";
        var member = list + SubscriberHash(desired.Email);
        var last = work.LastSynced;
        if (last is not null && last.Email != desired.Email)
        {
            // email.changed: PATCH the member's email_address so its tags and history follow. When
            // Mailchimp no longer has the old member (404) or refuses the new address (400, e.g.
            // "Member Exists"), sync the new address in full.
            var renamed = await call.SendAsync(HttpMethod.Patch, list + SubscriberHash(last.Email), new JsonObject { ["email_address"] = desired.Email }, cancellationToken);
            if (renamed.FailsForAnyRequest) return Fail(call, renamed);
            last = renamed.IsSuccess ? last with { Email = desired.Email } : null;
        }

        // An opt-out also unsubscribes a member Mailchimp had on its own (its form, an import),
        // which status_if_new alone would leave subscribed.
        var optOut = desired.OptedOut && last is not { OptedOut: true };
        var subscriptionChanged = (last is not null && (last.Subscribed != desired.Subscribed || last.Pending != desired.Pending)) || optOut;
        if (last is null || subscriptionChanged || !last.Fields.SequenceEqual(desired.Fields))
        {
            var body = new JsonObject
            {
                ["email_address"] = desired.Email,
                // Without marketing consent a buyer is kept as "transactional": on the audience, not mailed.
                ["status_if_new"] = Status(desired, existing: false),
            };
            // The status of an existing member changes only when consent changed here; re-subscribing
            // someone who unsubscribed in Mailchimp is refused with "Member In Compliance State".
            if (subscriptionChanged) body["status"] = Status(desired, existing: true);
            if (desired.Fields.Count > 0)
            {
                var merge = new JsonObject();
                foreach (var (name, value) in desired.Fields) merge[name] = value;
                body["merge_fields"] = merge;
            }
            var r = await call.SendAsync(HttpMethod.Put, member, body, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }

        var tags = new JsonArray();
        foreach (var tag in desired.Tags.Except(last?.Tags ?? [], StringComparer.Ordinal)) tags.Add(new JsonObject { ["name"] = tag, ["status"] = "active" });
        foreach (var tag in (last?.Tags ?? []).Except(desired.Tags, StringComparer.Ordinal)) tags.Add(new JsonObject { ["name"] = tag, ["status"] = "inactive" });
        if (tags.Count > 0)
        {
            var r = await call.SendAsync(HttpMethod.Post, member + "/tags", new JsonObject { ["tags"] = tags }, cancellationToken);
            if (!r.IsSuccess) return Fail(call, r);
        }
        return call.Succeeded();
    }

    /// <summary>
    /// "pending" while double opt-in awaits confirmation: Mailchimp then mails its own confirmation
    /// and makes the member "subscribed" when it is clicked (Marketing API, list members: status).
    /// </summary>
    private static string Status(DesiredContact desired, bool existing) =>
        desired.Subscribed ? "subscribed" : desired.Pending ? "pending" : existing ? "unsubscribed" : "transactional";

    /// <summary>
    /// A forgotten person (R8.4): each address's member is deleted for good
    /// (<c>POST /3.0/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent</c>, answered 204;
    /// mailchimp.com/developer/marketing/api/list-members). A 404 means Mailchimp holds no such member: done.
    /// </summary>
    private async Task<DeliveryResult> EraseAsync(DestinationHttp call, ContactErasure erase, CancellationToken cancellationToken)
    {
        foreach (var email in erase.Emails)
        {
            var path = $"/3.0/lists/{Uri.EscapeDataString(_listId)}/members/{SubscriberHash(email)}/actions/delete-permanent";
            var r = await call.SendAsync(HttpMethod.Post, path, null, cancellationToken);
            if (!r.IsSuccess && r.Status != 404) return Fail(call, r);
        }
        return call.Succeeded();
    }

    private static DeliveryResult Fail(DestinationHttp call, HttpReply r) => call.Failed(r, message: ErrorMessage);

    /// <summary>Errors are application/problem+json: <c>title</c> ("Member In Compliance State"), <c>detail</c>, and for "Invalid Resource" an <c>errors</c> list.</summary>
    private static string? ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return null;
            var title = root.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            var message = string.Join(": ", new[] { title, detail }.Where(s => !string.IsNullOrEmpty(s)));
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var fields = errors.EnumerateArray()
                    .Where(e => e.ValueKind == JsonValueKind.Object)
                    .Select(e => $"{(e.TryGetProperty("field", out var f) ? f.ToString() : "")} {(e.TryGetProperty("message", out var m) ? m.ToString() : "")}".Trim())
                    .Where(s => s.Length > 0)
                    .ToList();
                if (fields.Count > 0) message += " (" + string.Join("; ", fields) + ")";
            }
            return message.Length > 0 ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
