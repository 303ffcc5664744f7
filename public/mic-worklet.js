// The microphone's side of a browser test call (app/src/agents/audio.rs): the capture at the
// audio context's rate, averaged down to 16 kHz mono 16-bit PCM (little-endian, as every
// browser platform is), posted in 100 ms messages.
const RATE = 16000;
const MESSAGE = 1600;

class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / RATE;
    this.pos = 0;
    this.sum = 0;
    this.count = 0;
    this.out = new Int16Array(MESSAGE);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      this.sum += channel[i];
      this.count += 1;
      this.pos += 1;
      if (this.pos >= this.step) {
        this.pos -= this.step;
        const v = Math.max(-1, Math.min(1, this.sum / this.count));
        this.out[this.filled++] = v < 0 ? v * 0x8000 : v * 0x7fff;
        this.sum = 0;
        this.count = 0;
        if (this.filled === MESSAGE) {
          const buf = this.out.buffer;
          this.port.postMessage(buf, [buf]);
          this.out = new Int16Array(MESSAGE);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}

registerProcessor("mic-capture", MicCapture);
