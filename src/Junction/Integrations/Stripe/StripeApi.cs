using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Stripe;

/// <summary>Stripe's API: secret key as a bearer token; backfill from <c>GET /v1/events</c> (newest first, 30 days kept).</summary>
public sealed class StripeApi : IProviderApi, IBackfill
{
    public string DefaultBaseUrl => "https://api.stripe.com";

    public IBackfill Backfill => this;

    public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            source.Option("api_key") ?? throw new InvalidOperationException($"sources.{source.Id}.api_key is not set"));
        return ValueTask.CompletedTask;
    }

    public async IAsyncEnumerable<BackfillItem> PullAsync(ProviderApiClient api, DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? startingAfter = null;
        while (true)
        {
            var path = $"/v1/events?limit=100&created[gte]={since.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}"
                + (startingAfter is null ? "" : "&starting_after=" + Uri.EscapeDataString(startingAfter));
            var page = await api.GetJsonAsync(path, cancellationToken);
            string? last = null;
            foreach (var e in page.GetProperty("data").EnumerateArray())
            {
                last = e.GetProperty("id").GetString();
                yield return new BackfillItem(last!, Encoding.UTF8.GetBytes(e.GetRawText()), "application/json",
                    new Dictionary<string, string> { ["x-junction-backfill"] = "stripe /v1/events" });
            }
            if (last is null || !page.TryGetProperty("has_more", out var more) || !more.GetBoolean()) yield break;
            startingAfter = last;
        }
    }
}
