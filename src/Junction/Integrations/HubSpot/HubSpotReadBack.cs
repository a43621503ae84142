using System.Net.Http.Headers;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;

namespace Junction.Integrations.HubSpot;

/// <summary>
/// What HubSpot holds: every contact with its email and the tags property, 100 a page
/// (<c>GET /crm/v3/objects/contacts?properties=…&amp;after=…</c>, following <c>paging.next.after</c>).
/// The list endpoint rather than search: search stops at 10 000 results
/// (developers.hubspot.com/docs/api/crm/search), and an audit must see every holder of a tag.
/// Subscriptions are not covered: HubSpot keeps consent per subscription type, not on the contact.
/// </summary>
public sealed class HubSpotReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PerPage = 100;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        var token = Config.Credentials.GetValueOrDefault(HubSpotDestination.AccessToken) ?? "";
        var tagsProperty = Config.Options.GetValueOrDefault(HubSpotDestination.TagsProperty) ?? HubSpotDestination.DefaultTagsProperty;
        var api = new ReadBackHttp(Config, http, time, gate, r => r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token))
        {
            DefaultRetryAfter = TimeSpan.FromSeconds(10), // the burst window; the 429 names it in milliseconds only
        };
        // Mapped tag names, compared as HubSpot stores option values (exactly), reported as configured.
        var mapped = Config.Tags.Values.ToHashSet(StringComparer.Ordinal);
        var contacts = new Dictionary<string, ObservedContact>(StringComparer.Ordinal);
        string? after = null;
        for (var page = 0; page < 1_000_000; page++)
        {
            var body = await api.GetAsync($"/crm/v3/objects/contacts?limit={PerPage}&archived=false&properties=email,{Uri.EscapeDataString(tagsProperty)}"
                + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)), cancellationToken);
            if (!body.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException("GET /crm/v3/objects/contacts: expected 'results' in HubSpot's answer");
            }
            foreach (var contact in results.EnumerateArray())
            {
                if (!contact.TryGetProperty("properties", out var p) || !p.TryGetProperty("email", out var e) || e.GetString() is not { Length: > 0 } email) continue;
                var tags = p.TryGetProperty(tagsProperty, out var t) && t.GetString() is { Length: > 0 } text
                    ? text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(mapped.Contains)
                        .Distinct(StringComparer.Ordinal).ToDictionary(x => x, _ => (DateTimeOffset?)null, StringComparer.Ordinal)
                    : [];
                var key = email.Trim().ToLowerInvariant();
                contacts[key] = new ObservedContact { Email = key, Tags = tags };
            }
            after = body.TryGetProperty("paging", out var paging) && paging.TryGetProperty("next", out var next)
                && next.TryGetProperty("after", out var a) ? a.GetString() : null;
            if (after is null) break;
        }
        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = false,
            ApiCalls = api.Calls,
            Contacts = contacts,
        };
    }
}
