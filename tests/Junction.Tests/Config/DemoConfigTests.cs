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
    public void Create_ReadsStorageAndAdminTokenFromEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["JUNCTION_STORAGE"] = "sqlite:/tmp/demo.db",
            ["JUNCTION_ADMIN_TOKEN"] = "t0ken",
        };

        var config = DemoConfig.Create(name => env.GetValueOrDefault(name));

        Assert.Equal("sqlite:/tmp/demo.db", config.Storage);
        Assert.Equal(["t0ken"], config.Admin.Tokens);
    }
}
