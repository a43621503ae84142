using System.Net.Http.Headers;
using Junction.Config;
using Junction.Providers;

namespace Junction.Integrations.Paddle;

/// <summary>Paddle Billing API: the API key as a bearer token (developer.paddle.com/api-reference/about/authentication).</summary>
public sealed class PaddleApi : IProviderApi
{
    public string DefaultBaseUrl => "https://api.paddle.com";

    public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            source.Option("api_key") ?? throw new InvalidOperationException($"sources.{source.Id}.api_key is not set"));
        return ValueTask.CompletedTask;
    }
}
