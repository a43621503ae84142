using System.Net.Http.Headers;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Calendly;

/// <summary>Calendly API v2: a personal access token or OAuth access token as a bearer token (developer.calendly.com, authentication).</summary>
public sealed class CalendlyApi : IProviderApi
{
    public string DefaultBaseUrl => "https://api.calendly.com";

    public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            source.Option("api_key") ?? throw new ProviderApiException(System.Net.HttpStatusCode.Unauthorized, $"sources.{source.Id}.api_key is not set", null));
        return ValueTask.CompletedTask;
    }
}
