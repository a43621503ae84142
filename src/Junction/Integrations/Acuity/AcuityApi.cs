using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Acuity;

/// <summary>Acuity API v1: HTTP basic auth with the user id and the API key (developers.acuityscheduling.com, "Quick Start").</summary>
public sealed class AcuityApi : IProviderApi
{
    public string DefaultBaseUrl => "https://acuityscheduling.com/api/v1";

    public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        // Not retryable: a missing credential is a config error, quarantined with the key to set.
        var user = source.Option("user_id") ?? throw new ProviderApiException(HttpStatusCode.Unauthorized, $"sources.{source.Id}.user_id is not set", null);
        var key = source.Option("api_key") ?? throw new ProviderApiException(HttpStatusCode.Unauthorized, $"sources.{source.Id}.api_key is not set", null);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{key}")));
        return ValueTask.CompletedTask;
    }
}
