using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Junction.Audit;
using Junction.Dispatch;
using Junction.Dispatch.Destinations;

namespace Junction.Integrations.Kajabi;

/// <summary>
/// What Kajabi holds, read in bulk: for each mapped offer the site's contacts that hold it
/// (<c>GET /v1/contacts?filter[site_id]=…&amp;filter[has_offer_id]=…</c>, documented as "contacts who
/// have been granted a specific offer", paged with <c>page[number]</c>/<c>page[size]</c> and
/// followed to <c>meta.total_pages</c>), only their email asked for (<c>fields[contacts]=email</c>).
/// The cost grows with offers and pages, not with people. Kajabi says nothing here of when an offer
/// was granted, nor of subscriptions.
/// </summary>
public sealed class KajabiReadBack(DestinationConfig config, HttpClient http, TimeProvider time) : IDestinationReadBack
{
    private const int PageSize = 100;

    private const int MaxPages = 100_000;

    public DestinationConfig Config { get; } = config;

    public async Task<DestinationReadBack> ReadAsync(ReadBackGate gate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gate);
        if (KajabiToken.CheckConfig(Config) is { } configError) throw new ReadBackException(configError);
        var offers = Config.Courses.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var offer in offers.Where(o => !KajabiToken.IsId(o)))
        {
            throw new ReadBackException($"destinations.{Config.Id}.courses: '{offer}' is not a Kajabi offer id (digits)");
        }

        var tokens = new KajabiToken(Config, time);
        var bearer = "";
        var tokenCalls = 0;
        var api = new ReadBackHttp(Config, http, time, gate, r =>
        {
            r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            r.Headers.Accept.ParseAdd("application/vnd.api+json");
        })
        {
            ResetHeaders = KajabiConnector.ResetHeaders,
            DefaultRetryAfter = TimeSpan.FromSeconds(60),
        };
        var site = Uri.EscapeDataString(Config.Options[KajabiDestination.SiteId]);

        var contacts = new Dictionary<string, Dictionary<string, DateTimeOffset?>>(StringComparer.Ordinal);
        foreach (var offer in offers)
        {
            for (var page = 1; page <= MaxPages; page++)
            {
                // A read of many pages may outlive a token: the kept one is renewed when it is about to expire.
                if (tokens.NeedsRenewal)
                {
                    await gate(cancellationToken);
                    tokenCalls++;
                    var (token, reply, unexpected) = await tokens.GetAsync(new DestinationHttp(http, time), renew: false, cancellationToken);
                    bearer = token ?? throw new ReadBackException(unexpected ?? (reply!.Status is 400 or 401 or 403
                        ? $"POST /v1/oauth/token answered {reply.Status}: the credentials were refused; check destinations.{Config.Id}.credentials.client_id and client_secret"
                        : $"POST /v1/oauth/token answered {reply!.TransportError ?? reply.Status.ToString(CultureInfo.InvariantCulture)}"));
                }

                var body = await api.GetAsync(
                    $"/v1/contacts?filter%5Bsite_id%5D={site}&filter%5Bhas_offer_id%5D={Uri.EscapeDataString(offer)}&fields%5Bcontacts%5D=email"
                    + $"&page%5Bnumber%5D={page.ToString(CultureInfo.InvariantCulture)}&page%5Bsize%5D={PageSize.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
                if (!body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                {
                    throw new ReadBackException("GET /v1/contacts: expected 'data' in Kajabi's answer");
                }
                var count = 0;
                foreach (var contact in data.EnumerateArray())
                {
                    count++;
                    if (!contact.TryGetProperty("attributes", out var a) || !a.TryGetProperty("email", out var e) || e.ValueKind != JsonValueKind.String || e.GetString() is not { Length: > 0 } raw) continue;
                    var email = raw.Trim().ToLowerInvariant();
                    if (!contacts.TryGetValue(email, out var held)) contacts[email] = held = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
                    held[offer] = null;
                }
                if (count == 0 || !HasNextPage(body, page)) break;
            }
        }

        return new DestinationReadBack
        {
            Destination = Config.Id,
            CoversSubscriptions = false,
            ApiCalls = api.Calls + tokenCalls,
            Contacts = contacts.ToDictionary(c => c.Key, c => new ObservedContact { Email = c.Key, Status = ObservedStatus.None, Courses = c.Value }, StringComparer.Ordinal),
        };
    }

    /// <summary>JSON:API paging as Kajabi answers it: <c>links.next</c>, else <c>meta.total_pages</c>.</summary>
    internal static bool HasNextPage(JsonElement root, int page)
    {
        if (root.TryGetProperty("links", out var links) && links.ValueKind == JsonValueKind.Object && links.TryGetProperty("next", out var next))
        {
            return next.ValueKind == JsonValueKind.String && next.GetString() is { Length: > 0 };
        }
        return root.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("total_pages", out var total) && total.TryGetInt32(out var pages) && page < pages;
    }
}
