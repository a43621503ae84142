using Junction.Config;
using Junction.Providers;

namespace Junction.Tests.Config;

public sealed class DemoConfigTests
{
    [Fact]
    public void Create_HasOneSourcePerProvider_WithSecretsTheProviderAccepts()
    {
        var config = DemoConfig.Create(_ => null);

        Assert.True(config.IsDemo);
        Assert.Equal(ProviderRegistry.Names.Order(StringComparer.Ordinal), config.Sources.Values.Select(s => s.Provider).Order(StringComparer.Ordinal));
        foreach (var source in config.Sources.Values)
        {
            var provider = ProviderRegistry.Get(source.Provider);
            Assert.All(source.Secrets, secret => Assert.Null(provider.ValidateSecret(secret)));
        }
    }

    [Fact]
    public void Create_UsesDefaults_WhenEnvironmentIsEmpty()
    {
        var config = DemoConfig.Create(_ => null);

        Assert.Equal(ConfigLoader.DefaultStorage, config.Storage);
        Assert.Equal([DemoConfig.AdminToken], config.Admin.Tokens);
    }

    [Fact]
    public void Create_ReadsTheAdminTokenFromEnvironment_ButNeverTheStorage()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["JUNCTION_STORAGE"] = "sqlite:/tmp/demo.db",
            ["JUNCTION_ADMIN_TOKEN"] = "t0ken-from-the-environment",
        };

        var config = DemoConfig.Create(name => env.GetValueOrDefault(name));

        Assert.Equal(ConfigLoader.DefaultStorage, config.Storage);
        Assert.Equal(["t0ken-from-the-environment"], config.Admin.Tokens);
    }

    [Fact]
    public void Refusal_WhenJunctionStorageIsSet_NamesTheVariable()
    {
        var refusal = DemoConfig.Refusal("http://127.0.0.1:5080", name => name == "JUNCTION_STORAGE" ? "postgres://db/prod" : null);

        Assert.NotNull(refusal);
        Assert.Contains("JUNCTION_STORAGE", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("postgres://db/prod", refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://127.0.0.2:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5080", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://192.168.1.10:5080", false)]
    [InlineData("http://junction.example.com:5080", false)]
    public void Refusal_AllowsLoopbackListenUrlsOnly(string url, bool allowed)
    {
        Assert.Equal(allowed, DemoConfig.Refusal(url, _ => null) is null);
        Assert.Equal(allowed, DemoConfig.Refusal($"http://127.0.0.1:5081;{url}", _ => null) is null);
    }
}
