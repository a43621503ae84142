using Junction.Config;

namespace Junction.Tests.Config;

/// <summary>Tests that set a real process environment variable, so they run alone.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

[Collection(nameof(ProcessEnvironment))]
public sealed class ConfigEnvironmentIsolationTests
{
    [Fact]
    public void Parse_WithGivenEnvironment_DoesNotReadJunctionStorageFromProcessEnvironment()
    {
        // Regression: JUNCTION_STORAGE was read from the process environment even when an environment function was given.
        const string yaml = """
            storage: sqlite:./from-file.db
            sources:
              s:
                provider: shopify
                secrets: [x]
            """;
        var previous = Environment.GetEnvironmentVariable(ConfigLoader.StorageEnvironmentVariable);
        Environment.SetEnvironmentVariable(ConfigLoader.StorageEnvironmentVariable, "sqlite:/leaked/from/process.db");
        try
        {
            var config = ConfigLoader.Parse(yaml, "junction.yaml", _ => null);

            Assert.Equal("sqlite:./from-file.db", config.Storage);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ConfigLoader.StorageEnvironmentVariable, previous);
        }
    }
}
