using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Mailchimp;

/// <summary>
/// What Mailchimp holds, read in bulk through Marketing API 3.0: the members of the audience the
/// connector writes to (<c>options.list_id</c>), 1 000 a page by <c>count</c> and <c>offset</c> until
/// <c>total_items</c>, each with its status and tags, asking only for those fields (<c>fields=</c>
/// keeps the pages small). The cost grows with pages, not with people looked up one by one.
/// </summary>
public sealed class MailchimpReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    // The most members Mailchimp returns in one page.
    private const int PerPage = 1000;

    // A guard against an API that never reaches total_items (members removed while paging shift offsets, never loop forever).
    private const int MaxPages = 100_000;

    private const string Fields = "members.email_address,members.status,members.tags,total_items";

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        var listId = Config.Options.GetValueOrDefault("list_id") ?? "";
        if (listId.Length == 0) throw new ReadBackException($"destinations.{Config.Id}.options.list_id: required to read the Mailchimp audience");
        var key = Config.Credentials.GetValueOrDefault("api_key") ?? "";
        // The connector's Basic auth: any user name, the API key as password.
        var auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("junction:" + key)));
        var api = new ReadBackHttp(Config, http, time, gate, r => r.Headers.Authorization = auth)
        {
            ResetHeaders = ["RateLimit-Reset", "X-RateLimit-Reset"],
            // Mailchimp's 429 is about simultaneous connections and often names no wait: a short one frees a slot.
            DefaultRetryAfter = TimeSpan.FromSeconds(5),
        };

        var mapped = Config.Tags.Values.Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(v => v, v => v, StringComparer.OrdinalIgnoreCase);
        var contacts = new Dictionary<string, ObservedContact>(StringComparer.Ordinal);
        var path = $"/3.0/lists/{Uri.EscapeDataString(listId)}/members";
        var offset = 0;
        for (var page = 0; page < MaxPages; page++)
        {
            var body = await api.GetAsync(
                $"{path}?count={PerPage.ToString(CultureInfo.InvariantCulture)}&offset={offset.ToString(CultureInfo.InvariantCulture)}&fields={Fields}",
                cancellationToken);
            if (!body.TryGetProperty("members", out var members) || members.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException($"GET {path}: expected 'members' in Mailchimp's answer");
            }
            var count = 0;
            foreach (var m in members.EnumerateArray())
            {
                count++;
                if (!m.TryGetProperty("email_address", out var e) || e.GetString() is not { Length: > 0 } raw) continue;
                var email = raw.Trim().ToLowerInvariant();
                var tags = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
                if (m.TryGetProperty("tags", out var held) && held.ValueKind == JsonValueKind.Array)
                {
                    foreach (var tag in held.EnumerateArray())
                    {
                        // Only the mapped tags are Junction's; the list gives no date a tag was added.
                        if (tag.TryGetProperty("name", out var n) && n.GetString() is { } name && mapped.TryGetValue(name, out var configured)) tags[configured] = null;
                    }
                }
                var status = m.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? Status(s.GetString()!) : ObservedStatus.None;
                contacts[email] = new ObservedContact { Email = email, Status = status, Tags = tags };
            }
            offset += count;
            // Without total_items, a full page means there may be more.
            var total = body.TryGetProperty("total_items", out var t) && t.TryGetInt32(out var n2) ? n2 : count < PerPage ? offset : int.MaxValue;
            if (count == 0 || offset >= total) break;
        }

        return new DestinationReadBack { Destination = Config.Id, CoversSubscriptions = true, ApiCalls = api.Calls, Contacts = contacts };
    }

    /// <summary>
    /// Mailchimp's statuses in Junction's words. Transactional is what the connector writes for a
    /// buyer without marketing consent (on the audience, not mailed), so it is neither subscribed
    /// nor an opt-out; cleaned (bounced) and archived will not be mailed either.
    /// </summary>
    internal static string Status(string status) => status switch
    {
        "subscribed" => ObservedStatus.Subscribed,
        "pending" => ObservedStatus.Pending,
        "unsubscribed" => ObservedStatus.Unsubscribed,
        _ => ObservedStatus.Inactive, // cleaned, archived, transactional
    };
}
