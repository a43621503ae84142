using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;
using Microsoft.AspNetCore.WebUtilities;

namespace Junction.Integrations.Klaviyo;

/// <summary>
/// What Klaviyo holds, read in bulk: the profiles of the <c>list_id</c> list with their email
/// consent (<c>GET /api/lists/{id}/profiles?additional-fields[profile]=subscriptions</c>), every
/// profile's <c>junction_tags</c> property when tags are kept as properties (<c>GET /api/profiles</c>),
/// and the members of each list a tag is mapped to, 100 a page following <c>links.next</c>'s
/// <c>page[cursor]</c> (developers.klaviyo.com/en/docs/api_overview#pagination). The cost grows with
/// lists and pages, not with people looked up one by one. Klaviyo keeps no time for a property value,
/// so tag times are unknown (null).
/// </summary>
public sealed class KlaviyoReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PageSize = 100;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        var apiKey = Config.Credentials.GetValueOrDefault(KlaviyoDestination.ApiKey) ?? "";
        var api = new ReadBackHttp(Config, http, time, gate, r =>
        {
            KlaviyoDestination.Authorize(r, apiKey);
            r.Headers.Accept.Clear();
            r.Headers.Accept.ParseAdd("application/vnd.api+json");
        })
        {
            DefaultRetryAfter = TimeSpan.FromSeconds(60), // the steady window, when a 429 names no wait
        };
        var listId = Config.Options.GetValueOrDefault(KlaviyoDestination.ListId)
            ?? throw new ReadBackException($"destinations.{Config.Id}.list_id: required for Klaviyo");
        var contacts = new Dictionary<string, (string? Status, Dictionary<string, DateTimeOffset?> Tags)>(StringComparer.Ordinal);
        (string? Status, Dictionary<string, DateTimeOffset?> Tags) Of(string email)
        {
            if (!contacts.TryGetValue(email, out var c)) contacts[email] = c = (null, new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal));
            return c;
        }

        await foreach (var (email, profile) in ProfilesAsync(api, $"/api/lists/{Uri.EscapeDataString(listId)}/profiles", "&additional-fields%5Bprofile%5D=subscriptions", cancellationToken))
        {
            contacts[email] = (Consent(profile), Of(email).Tags);
        }

        var mapped = Config.Tags.Values.Distinct(StringComparer.Ordinal).ToList();
        var propertyTags = mapped.Where(t => KlaviyoDestination.ListOf(t) is null).ToHashSet(StringComparer.Ordinal);
        if (propertyTags.Count > 0)
        {
            await foreach (var (email, profile) in ProfilesAsync(api, "/api/profiles", "", cancellationToken))
            {
                if (!profile.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object
                    || !props.TryGetProperty(KlaviyoDestination.TagsProperty, out var tags) || tags.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }
                foreach (var t in tags.EnumerateArray())
                {
                    if (t.GetString() is { } name && propertyTags.Contains(name)) Of(email).Tags[name] = null;
                }
            }
        }
        foreach (var tag in mapped.Where(t => KlaviyoDestination.ListOf(t) is not null).Order(StringComparer.Ordinal))
        {
            await foreach (var (email, _) in ProfilesAsync(api, $"/api/lists/{Uri.EscapeDataString(KlaviyoDestination.ListOf(tag)!)}/profiles", "", cancellationToken))
            {
                Of(email).Tags[tag] = null;
            }
        }

        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = true,
            ApiCalls = api.Calls,
            Contacts = contacts.ToDictionary(c => c.Key, c => new ObservedContact
            {
                Email = c.Key,
                Status = c.Value.Status ?? ObservedStatus.None,
                Tags = c.Value.Tags,
            }, StringComparer.Ordinal),
        };
    }

    /// <summary>Email marketing consent in Junction's words: SUBSCRIBED, UNSUBSCRIBED, NEVER_SUBSCRIBED.</summary>
    private static string Consent(JsonElement attributes) =>
        attributes.TryGetProperty("subscriptions", out var s) && s.ValueKind == JsonValueKind.Object
        && s.TryGetProperty("email", out var e) && e.ValueKind == JsonValueKind.Object
        && e.TryGetProperty("marketing", out var m) && m.ValueKind == JsonValueKind.Object
        && m.TryGetProperty("consent", out var c) && c.ValueKind == JsonValueKind.String
            ? c.GetString() switch
            {
                "SUBSCRIBED" => ObservedStatus.Subscribed,
                "UNSUBSCRIBED" => ObservedStatus.Unsubscribed,
                _ => ObservedStatus.None,
            }
            : ObservedStatus.None;

    /// <summary>(lower-cased email, attributes) of every profile of <paramref name="path"/>, following <c>links.next</c>.</summary>
    private static async IAsyncEnumerable<(string Email, JsonElement Attributes)> ProfilesAsync(ReadBackHttp api, string path, string extra,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        for (var page = 0; page < 1_000_000; page++)
        {
            var body = await api.GetAsync($"{path}?page%5Bsize%5D={PageSize}{extra}{(cursor is null ? "" : "&page%5Bcursor%5D=" + Uri.EscapeDataString(cursor))}", cancellationToken);
            if (!body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw new ReadBackException($"GET {path}: expected 'data' in Klaviyo's answer");
            }
            foreach (var p in data.EnumerateArray())
            {
                if (p.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object
                    && a.TryGetProperty("email", out var e) && e.GetString() is { Length: > 0 } email)
                {
                    yield return (email.Trim().ToLowerInvariant(), a);
                }
            }
            cursor = body.TryGetProperty("links", out var links) && links.ValueKind == JsonValueKind.Object
                && links.TryGetProperty("next", out var next) && next.GetString() is { Length: > 0 } url && Uri.TryCreate(url, UriKind.Absolute, out var uri)
                && QueryHelpers.ParseQuery(uri.Query).TryGetValue("page[cursor]", out var c) && c.ToString() is { Length: > 0 } value ? value : null;
            if (cursor is null) yield break;
        }
    }
}
