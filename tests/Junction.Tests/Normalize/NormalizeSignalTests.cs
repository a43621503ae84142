using Junction.Normalize;

namespace Junction.Tests.Normalize;

public sealed class NormalizeSignalTests
{
    [Fact]
    public void SmallIntakeCommits_AreBusyButNotSaturated_SoBackgroundStagesDoNotPause()
    {
        using var signal = new NormalizeSignal();
        signal.IntakeCommitted(1);
        signal.IntakeCommitted(NormalizeSignal.SaturatedBatch - 1);

        Assert.True(signal.IntakeBusy);
        Assert.False(signal.IntakeSaturated);
    }

    [Fact]
    public void ACommitOfSaturatedBatchSize_MarksIntakeSaturated_UntilTheWindowPasses()
    {
        using var signal = new NormalizeSignal();
        signal.IntakeCommitted(NormalizeSignal.SaturatedBatch);
        Assert.True(signal.IntakeSaturated);

        Thread.Sleep(NormalizeSignal.SaturatedWindow + TimeSpan.FromMilliseconds(50));
        Assert.False(signal.IntakeSaturated);
    }

    [Fact]
    public async Task AnOperatorWakeUp_WakesTheNormalizer_WithoutCountingAsIntakeTraffic()
    {
        using var signal = new NormalizeSignal();
        signal.Notify();

        Assert.True(await signal.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.False(signal.IntakeBusy);
        Assert.False(signal.IntakeSaturated);
    }
}
