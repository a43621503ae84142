using System.Net;
using System.Net.Http.Headers;
using Junction.Tests.Support;

namespace Junction.Tests.Intake;

/// <summary>metrics.token: /metrics names sources, destinations and rejection reasons, so it can be closed.</summary>
public sealed class MetricsAuthTests
{
    private const string MetricsToken = "metrics-token-0123456789";

    [Fact]
    public async Task Metrics_WithATokenConfigured_Answers401WithoutIt_AndServesWithIt()
    {
        var config = JunctionServer.Config(TestStorage.NewSqlite()) with { MetricsToken = MetricsToken };
        await using var server = await JunctionServer.StartAsync(config);

        using var anonymous = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.ToString());
        Assert.Contains("metrics.token", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The admin token is not the metrics token.
        using var withAdmin = await server.Admin.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, withAdmin.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MetricsToken);
        using var authorized = await server.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
    }

    [Fact]
    public async Task Metrics_WithoutATokenConfigured_StaysOpen()
    {
        await using var server = await JunctionServer.StartAsync(JunctionServer.Config(TestStorage.NewSqlite()));

        using var anonymous = await server.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }
}
