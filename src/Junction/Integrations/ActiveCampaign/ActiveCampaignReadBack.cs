using System.Globalization;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.ActiveCampaign;

/// <summary>
/// What ActiveCampaign holds, read in bulk through API v3: each mapped tag's id
/// (<c>GET /api/3/tags?search=</c>), the contacts holding it (<c>GET /api/3/contacts?tagid=</c>), and
/// with option <c>list_id</c> the list's contacts by status (<c>GET /api/3/contacts?listid=&amp;status=</c>:
/// 0 unconfirmed, 1 active, 2 unsubscribed, 3 bounced), 100 a page with <c>limit</c>/<c>offset</c>
/// (developers.activecampaign.com/reference/pagination). The cost grows with tags and pages, not people.
/// ActiveCampaign does not say when a tag was added in these lists, so tag times are unknown (null).
/// </summary>
public sealed class ActiveCampaignReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PageSize = 100;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        var apiKey = Config.Credentials.GetValueOrDefault(ActiveCampaignDestination.ApiKey) ?? "";
        var account = Config with { BaseUrl = ActiveCampaignDestination.AccountUrl(Config.BaseUrl) };
        var api = new ReadBackHttp(account, http, time, gate, r => r.Headers.Add("Api-Token", apiKey)) { DefaultRetryAfter = TimeSpan.FromSeconds(1) };
        var contacts = new Dictionary<string, (string? Status, Dictionary<string, DateTimeOffset?> Tags)>(StringComparer.Ordinal);
        (string? Status, Dictionary<string, DateTimeOffset?> Tags) Of(string email)
        {
            if (!contacts.TryGetValue(email, out var c)) contacts[email] = c = (null, new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal));
            return c;
        }

        var missing = new List<string>();
        foreach (var name in Config.Tags.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var found = await api.GetAsync($"/api/3/tags?search={Uri.EscapeDataString(name)}&limit={PageSize}", cancellationToken);
            var tagId = found.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
                ? tags.EnumerateArray().Where(t => t.TryGetProperty("tag", out var n) && n.GetString() == name).Select(ActiveCampaignConnector.Id).FirstOrDefault(id => id is not null)
                : throw new ReadBackException("GET /api/3/tags: expected 'tags' in ActiveCampaign's answer");
            if (tagId is null)
            {
                missing.Add($"tag '{name}'");
                continue;
            }
            await foreach (var c in ContactsAsync(api, "tagid=" + Uri.EscapeDataString(tagId), cancellationToken)) Of(c).Tags[name] = null;
        }

        var listId = Config.Options.GetValueOrDefault(ActiveCampaignDestination.ListId);
        if (listId is not null)
        {
            foreach (var (status, observed) in new[] { (1, ObservedStatus.Subscribed), (0, ObservedStatus.Pending), (2, ObservedStatus.Unsubscribed), (3, ObservedStatus.Inactive) })
            {
                await foreach (var c in ContactsAsync(api, $"listid={Uri.EscapeDataString(listId)}&status={status.ToString(CultureInfo.InvariantCulture)}", cancellationToken))
                {
                    var entry = Of(c);
                    contacts[c] = (entry.Status ?? observed, entry.Tags);
                }
            }
        }

        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = listId is not null,
            ApiCalls = api.Calls,
            // The connector creates a missing tag on first use, but a mapped name with no tag yet is worth a look.
            Missing = missing,
            Contacts = contacts.ToDictionary(c => c.Key, c => new ObservedContact
            {
                Email = c.Key,
                Status = listId is null ? null : c.Value.Status ?? ObservedStatus.None,
                Tags = c.Value.Tags,
            }, StringComparer.Ordinal),
        };
    }

    /// <summary><c>meta.total</c>, a string in ActiveCampaign's answers; unknown counts as "no more".</summary>
    internal static long Total(JsonElement body) =>
        body.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("total", out var total)
        && long.TryParse(ActiveCampaignConnector.Scalar(total), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>The (lower-cased) emails of <c>GET /api/3/contacts?{filter}</c>, every page.</summary>
    private static async IAsyncEnumerable<string> ContactsAsync(ReadBackHttp api, string filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Until meta.total is reached (a string, "12"): a server may answer pages smaller than asked.
        for (var offset = 0; offset < 10_000_000;)
        {
            var body = await api.GetAsync($"/api/3/contacts?{filter}&limit={PageSize}&offset={offset.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
            if (!body.TryGetProperty("contacts", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException("GET /api/3/contacts: expected 'contacts' in ActiveCampaign's answer");
            }
            foreach (var c in list.EnumerateArray())
            {
                if (c.TryGetProperty("email", out var e) && e.GetString() is { Length: > 0 } email) yield return email.Trim().ToLowerInvariant();
            }
            offset += list.GetArrayLength();
            if (list.GetArrayLength() == 0 || offset >= Total(body)) yield break;
        }
    }
}
