using System.Globalization;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.Kit;

/// <summary>
/// What Kit holds, read in bulk through API v4 (developers.kit.com/api-reference): the tag ids of
/// the mapped tags (<c>GET /v4/tags</c>), each mapped tag's subscribers with <c>tagged_at</c>
/// (<c>GET /v4/tags/{id}/subscribers?status=all</c>), and every subscriber's state
/// (<c>GET /v4/subscribers?status=all</c>), 1 000 a page with the <c>after</c> cursor. The cost grows
/// with tags and pages, not with people looked up one by one.
/// </summary>
public sealed class KitReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PerPage = 1000;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        var apiKey = Config.Credentials.GetValueOrDefault("api_key") ?? "";
        var api = new ReadBackHttp(Config, http, time, gate, r => r.Headers.Add("X-Kit-Api-Key", apiKey))
        {
            ResetHeaders = ["RateLimit-Reset", "X-RateLimit-Reset"],
            DefaultRetryAfter = TimeSpan.FromSeconds(60), // Kit's 429 names no wait; its window is 60 s
        };
        var contacts = new Dictionary<string, Contact>(StringComparer.Ordinal);
        Contact Of(JsonElement s)
        {
            var email = s.GetProperty("email_address").GetString()!.Trim().ToLowerInvariant();
            if (!contacts.TryGetValue(email, out var c)) contacts[email] = c = new Contact();
            if (s.TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.String) c.Status = Status(state.GetString()!);
            return c;
        }

        var mapped = Config.Tags.Values.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var tagIds = new Dictionary<long, string>();
        await foreach (var tag in PagesAsync(api, "/v4/tags?", "tags", cancellationToken))
        {
            var name = tag.GetProperty("name").GetString() ?? "";
            if (mapped.Contains(name)) tagIds[tag.GetProperty("id").GetInt64()] = Config.Tags.Values.First(v => string.Equals(v, name, StringComparison.OrdinalIgnoreCase));
        }
        foreach (var (id, name) in tagIds.OrderBy(t => t.Key))
        {
            await foreach (var s in PagesAsync(api, $"/v4/tags/{id.ToString(CultureInfo.InvariantCulture)}/subscribers?status=all&", "subscribers", cancellationToken))
            {
                DateTimeOffset? at = s.TryGetProperty("tagged_at", out var t) && t.ValueKind == JsonValueKind.String
                    && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
                Of(s).Tags[name] = at;
            }
        }
        await foreach (var s in PagesAsync(api, "/v4/subscribers?status=all&", "subscribers", cancellationToken)) Of(s);

        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = true,
            ApiCalls = api.Calls,
            // Kit creates a missing tag on first use, but a mapped name with no tag yet is worth a look before launch.
            Missing = [.. Config.Tags.Values.Where(v => !tagIds.ContainsValue(v)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(v => $"tag '{v}'")],
            Contacts = contacts.ToDictionary(c => c.Key, c => new ObservedContact { Email = c.Key, Status = c.Value.Status ?? ObservedStatus.None, Tags = c.Value.Tags },
                StringComparer.Ordinal),
        };
    }

    /// <summary>Kit's states in Junction's words: inactive is an unconfirmed (double opt-in) subscriber.</summary>
    private static string Status(string state) => state switch
    {
        "active" => ObservedStatus.Subscribed,
        "inactive" => ObservedStatus.Pending,
        "cancelled" => ObservedStatus.Unsubscribed,
        _ => ObservedStatus.Inactive, // bounced, complained
    };

    private static async IAsyncEnumerable<JsonElement> PagesAsync(ReadBackHttp api, string pathAndQuery, string items,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        for (var page = 0; page < 100_000; page++)
        {
            var body = await api.GetAsync($"{pathAndQuery}per_page={PerPage}{(after is null ? "" : "&after=" + Uri.EscapeDataString(after))}", cancellationToken);
            if (!body.TryGetProperty(items, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException($"GET {pathAndQuery.Split('?')[0]}: expected '{items}' in Kit's answer");
            }
            foreach (var item in list.EnumerateArray()) yield return item;
            if (!body.TryGetProperty("pagination", out var p) || !p.TryGetProperty("has_next_page", out var more) || !more.GetBoolean()) yield break;
            after = p.TryGetProperty("end_cursor", out var end) ? end.GetString() : null;
            if (after is null) yield break;
        }
    }

    private sealed class Contact
    {
        public string? Status { get; set; }
        public Dictionary<string, DateTimeOffset?> Tags { get; } = new(StringComparer.Ordinal);
    }
}
