using Junction.Config;
using Junction.Telemetry;
using Junction.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Junction.Tests.Config;

public sealed class TelemetryConfigTests
{
    private static string Yaml(string telemetry) => $$"""
        sources:
          stripe-main: { provider: stripe, secrets: ["whsec_live_3f9a0c1e7b2d4a68"] }
        {{telemetry}}
        """;

    [Fact]
    public void OtlpEndpoint_IsRead_AndTracesGoToItsV1TracesPath_AndNoSectionMeansNoExport()
    {
        var config = ConfigLoader.Parse(Yaml("telemetry: { otlp_endpoint: \"http://collector:4318\" }"), "j.yaml", _ => null);

        Assert.Equal(new Uri("http://collector:4318"), config.OtlpEndpoint);
        Assert.Equal(new Uri("http://collector:4318/v1/traces"), StageTracing.TracesEndpoint(config.OtlpEndpoint!));
        Assert.Equal(new Uri("http://collector:4318/v1/traces"), StageTracing.TracesEndpoint(new Uri("http://collector:4318/v1/traces")));
        Assert.Null(ConfigLoader.Parse(Yaml(""), "j.yaml", _ => null).OtlpEndpoint);
    }

    [Fact]
    public void TelemetryMistakes_AreReportedWithTheirKeyPaths()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml("telemetry: { otlp_endpoint: \"collector:4318\", sample: 1 }"), "j.yaml", _ => null)).Errors;
        Assert.Contains(errors, e => e.Path == "telemetry.otlp_endpoint" && e.Message.Contains("http://localhost:4318", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "telemetry.sample");

        var notAMap = Assert.Single(Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Yaml("telemetry: http://collector:4318"), "j.yaml", _ => null)).Errors);
        Assert.Equal("telemetry", notAMap.Path);
    }

    [Fact]
    public async Task WithoutTelemetry_NoTracerProviderIsBuilt()
    {
        // Off by default: nothing listens to the stage sources, so a span costs one HasListeners check.
        await using var server = await JunctionServer.StartAsync(JunctionServer.Config(TestStorage.NewSqlite()));
        Assert.Null(server.App.Services.GetService<TracerProvider>());
    }
}
