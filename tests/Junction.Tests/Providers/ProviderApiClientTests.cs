using System.Net;
using Junction.Config;
using Junction.Providers;
using Junction.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Junction.Tests.Providers;

/// <summary>The provider API client's error path: a 429's Retry-After reaches the caller's schedule.</summary>
public sealed class ProviderApiClientTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Sun, 01 Mar 2026 12:01:30 GMT", 90)] // an HTTP-date in the future: wait until then, by the injected clock
    [InlineData("Sun, 01 Mar 2026 11:00:00 GMT", 0)]  // in the past: no wait
    [InlineData("45", 45)]
    public async Task RateLimited_RetryAfter_GivesTheWait_AsDeltaOrHttpDate(string retryAfter, int expectedSeconds)
    {
        await using var api = await FakeApi.StartAsync(app => app.MapGet("/v1/orders", (HttpResponse r) =>
        {
            r.Headers.RetryAfter = retryAfter;
            return Results.StatusCode(429);
        }));
        var source = new SourceConfig
        {
            Id = "s", Provider = "test", Secrets = [],
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_base_url"] = api.BaseUrl.ToString() },
        };
        using var http = new HttpClient();
        var client = new ProviderApiClient(http, source, new NoAuth(), new FakeTimeProvider(Now));

        var error = await Assert.ThrowsAsync<ProviderApiException>(() => client.GetJsonAsync("/v1/orders", CancellationToken.None));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.Status);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), error.RetryAfter);
    }

    private sealed class NoAuth : IProviderApi
    {
        public string DefaultBaseUrl => "http://127.0.0.1:1/";
        public ValueTask AuthorizeAsync(HttpRequestMessage request, SourceConfig source, HttpClient http, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
