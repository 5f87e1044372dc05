import { Overview } from '../components/overview';

/** The overview: live topology and partition history of the watched cluster. */
export default function HomePage() {
  return <Overview />;
}
